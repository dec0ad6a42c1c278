using Azure.Core;
using Azure.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>Configuration of the blob lake: binding, start-up validation messages, and AddLake picking the backend by kind.</summary>
public sealed class BlobLakeOptionsTests
{
    [Fact]
    public void Lake_Kind_blob_builds_a_blob_store_from_the_Lake_Blob_section()
    {
        using var provider = Provider(new()
        {
            ["Lake:Kind"] = "blob",
            ["Lake:Blob:ServiceUri"] = "http://127.0.0.1:10000/devstoreaccount1",
            ["Lake:Blob:Container"] = "bank-lake",
            ["Lake:Blob:Prefix"] = "prod",
        });

        var store = provider.GetRequiredService<ILakeStore>();

        var blob = Assert.IsType<BlobLakeStore>(store);
        Assert.Equal("http://127.0.0.1:10000/devstoreaccount1/bank-lake/prod", blob.Location);
        Assert.Equal("devstoreaccount1", Assert.IsType<StorageSharedKeyCredential>(blob.Credential).AccountName);
        Assert.Equal(BlobClientOptions.ServiceVersion.V2026_06_06, blob.ServiceVersion);
    }

    [Fact]
    public void Lake_Kind_folder_ignores_an_incomplete_blob_section()
    {
        var root = Directory.CreateTempSubdirectory("blob-options-").FullName;
        try
        {
            using var provider = Provider(new() { ["Lake:Kind"] = "folder", ["Lake:Folder:Root"] = root, ["Lake:Blob:ServiceUri"] = "" });

            Assert.IsType<FolderLakeStore>(provider.GetRequiredService<ILakeStore>());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Without_AddBlobLake_the_blob_kind_is_refused_with_the_fix()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Lake:Kind"] = "blob" }).Build();
        using var provider = new ServiceCollection().AddLake(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ILakeStore>());

        Assert.Equal(
            ["Lake:Kind must be one of folder (got 'blob'). Fix: set Lake__Kind to folder, or register the blob lake (services.AddBlobLake(configuration) from BaloyiBank.Lake.Blob)."],
            error.Failures);
    }

    [Fact]
    public void Bad_blob_settings_fail_at_start_up_with_one_message_per_problem()
    {
        using var provider = Provider(new()
        {
            ["Lake:Kind"] = "blob",
            ["Lake:Blob:ServiceUri"] = "blob.core.windows.net",
            ["Lake:Blob:Container"] = "Bank_Lake",
            ["Lake:Blob:Credential"] = "password",
            ["Lake:Blob:MaxRetries"] = "-1",
        });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LakeOptions>>().Value);

        Assert.Equal(
        [
            "Lake:Blob:ServiceUri must be an absolute http(s) URI without a query (got 'blob.core.windows.net'). Fix: set Lake__Blob__ServiceUri to https://<account>.blob.core.windows.net, or http://127.0.0.1:10000/devstoreaccount1 for Azurite.",
            "Lake:Blob:Container must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit (got 'Bank_Lake'). Fix: set Lake__Blob__Container, e.g. to lake.",
            "Lake:Blob:Credential must be one of sharedkey, managedidentity, default, sas, connectionstring (got 'password'). Fix: set Lake__Blob__Credential to sharedkey (account key, Azurite), managedidentity (Azure), default (DefaultAzureCredential), sas or connectionstring.",
            "Lake:Blob:MaxRetries must be between 0 and 20 (got -1). Fix: set Lake__Blob__MaxRetries, e.g. to 5.",
        ], error.Failures);
    }

    [Fact]
    public void A_real_account_without_a_key_names_the_environment_variable_to_set()
    {
        var options = new BlobLakeOptions { ServiceUri = "https://baloyilake.blob.core.windows.net", Container = "lake" };
        if (Environment.GetEnvironmentVariable("AZURE_STORAGE_KEY") is { Length: > 0 })
        {
            return;
        }

        Assert.Equal("baloyilake", options.ResolveAccountName());
        Assert.Equal(
            ["Lake:Blob:AccountKey is needed for sharedkey (got nothing). Fix: set Lake__Blob__AccountKey (or AZURE_STORAGE_KEY) from a secret store, or use Lake__Blob__Credential=managedidentity."],
            options.Problems());
    }

    [Fact]
    public void A_malformed_key_is_reported_without_showing_it()
    {
        var options = new BlobLakeOptions { ServiceUri = "https://baloyilake.blob.core.windows.net", Container = "lake", AccountKey = "not-base64-secret!" };

        var problem = Assert.Single(options.Problems());

        Assert.StartsWith("Lake:Blob:AccountKey is not base64 (value not shown). Fix: ", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("not-base64-secret", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Managed_identity_needs_https_because_tokens_only_travel_over_TLS()
    {
        var options = new BlobLakeOptions { ServiceUri = "http://127.0.0.1:10000/devstoreaccount1", Container = "lake", Credential = "managedidentity" };

        Assert.Equal(
            ["Lake:Blob:ServiceUri must use https with credential managedidentity (got 'http://127.0.0.1:10000/devstoreaccount1'). Fix: bearer tokens are only sent over TLS: use https://<account>.blob.core.windows.net, or Credential=sharedkey for Azurite."],
            options.Problems());
    }

    [Fact]
    public void A_service_uri_carrying_a_sas_is_refused_and_the_sas_is_not_echoed()
    {
        var options = new BlobLakeOptions { ServiceUri = "https://baloyilake.blob.core.windows.net?sv=1&sig=SECRET", Container = "lake", Credential = "managedidentity" };

        var problems = options.Problems();

        Assert.Contains(problems, p => p.StartsWith("Lake:Blob:ServiceUri must be an absolute http(s) URI without a query (got 'https://baloyilake.blob.core.windows.net?<redacted>')", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.DoesNotContain("SECRET", p, StringComparison.Ordinal));
    }

    [Fact]
    public void The_account_name_comes_from_the_host_or_from_azurites_path()
    {
        Assert.Equal("baloyilake", new BlobLakeOptions { ServiceUri = "https://baloyilake.blob.core.windows.net/" }.ResolveAccountName());
        Assert.Equal("devstoreaccount1", new BlobLakeOptions { ServiceUri = "http://127.0.0.1:10000/devstoreaccount1" }.ResolveAccountName());
        Assert.Equal("given", new BlobLakeOptions { ServiceUri = "http://127.0.0.1:10000/devstoreaccount1", AccountName = "given" }.ResolveAccountName());
        Assert.Equal(BlobLakeOptions.AzuriteAccountKey, new BlobLakeOptions { ServiceUri = "http://127.0.0.1:10000/devstoreaccount1" }.ResolveAccountKey());
    }

    [Fact]
    public void Constructing_a_store_with_bad_options_throws_the_same_messages()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new BlobLakeStore(new BlobLakeOptions { ServiceUri = "", Container = "lake" }));

        Assert.Contains("Lake:Blob:ServiceUri must name the Blob service endpoint (got nothing). Fix: ", error.Failures.First(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_gives_the_endpoint_and_account_and_the_location_never_shows_its_key()
    {
        var options = new BlobLakeOptions
        {
            Credential = "connectionstring",
            ConnectionString = $"DefaultEndpointsProtocol=https;AccountName=baloyilake;AccountKey={BlobLakeOptions.AzuriteAccountKey};EndpointSuffix=core.windows.net",
            Container = "lake",
        };

        using var store = new BlobLakeStore(options);

        Assert.Empty(options.Problems());
        Assert.Equal("https://baloyilake.blob.core.windows.net", options.ResolveServiceUri());
        Assert.Equal("baloyilake", options.ResolveAccountName());
        Assert.Equal("https://baloyilake.blob.core.windows.net/lake", store.Location);
        Assert.Null(store.Credential);
    }

    [Fact]
    public void A_sas_connection_string_keeps_its_signature_out_of_the_location()
    {
        var options = new BlobLakeOptions
        {
            Credential = "connectionstring",
            ConnectionString = "BlobEndpoint=https://baloyilake.blob.core.windows.net/;SharedAccessSignature=sv=2025-01-05&sp=racwdl&sig=SECRETSIG",
        };

        using var store = new BlobLakeStore(options);

        Assert.Equal("https://baloyilake.blob.core.windows.net/lake", store.Location);
        Assert.DoesNotContain("SECRETSIG", store.ObjectUri("a/b.json").AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_or_missing_connection_string_is_one_message_without_the_value()
    {
        var bad = new BlobLakeOptions { Credential = "connectionstring", ConnectionString = "AccountName=x;AccountKey=SECRET-not-base64" };
        var missing = new BlobLakeOptions { Credential = "connectionstring" };

        var problem = Assert.Single(bad.Problems());

        Assert.StartsWith("Lake:Blob:ConnectionString is not a storage connection string (value not shown). Fix: set Lake__Blob__ConnectionString", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", problem, StringComparison.Ordinal);
        Assert.StartsWith("Lake:Blob:ConnectionString is needed for credential connectionstring (got nothing). Fix: ", Assert.Single(missing.Problems()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_service_uri_that_contradicts_the_connection_string_is_refused()
    {
        var options = new BlobLakeOptions
        {
            Credential = "connectionstring",
            ConnectionString = "UseDevelopmentStorage=true",
            ServiceUri = "https://elsewhere.blob.core.windows.net",
        };

        Assert.Equal(
            ["Lake:Blob:ServiceUri differs from the connection string's blob endpoint http://127.0.0.1:10000/devstoreaccount1 (got 'https://elsewhere.blob.core.windows.net'). Fix: leave Lake__Blob__ServiceUri unset with credential connectionstring, or make the two agree."],
            options.Problems());
    }

    [Theory]
    [InlineData("2026-06-06", true)]
    [InlineData("2025-01-05", true)]
    [InlineData("2019-02-02", true)]
    [InlineData("2024-13-40", false)]
    [InlineData("latest", false)]
    public void The_api_version_must_be_one_the_sdk_knows(string version, bool known)
    {
        var options = BlobLakeOptions.ForAzurite("http://127.0.0.1:10000/devstoreaccount1", "lake");
        options.ApiVersion = version;

        if (known)
        {
            Assert.Equal(version, options.ResolveServiceVersion()!.Value.ToString()[1..].Replace('_', '-'));
            Assert.Empty(options.Problems());
        }
        else
        {
            Assert.Null(options.ResolveServiceVersion());
            Assert.Equal(
                [$"Lake:Blob:ApiVersion must be a Blob API version Azure.Storage.Blobs knows, such as 2026-06-06 (got '{version}'). Fix: leave Lake__Blob__ApiVersion unset (2026-06-06) or set a version the endpoint accepts (Azurite 3.37: up to 2026-06-06)."],
                options.Problems());
        }
    }

    [Fact]
    public void Retry_options_become_the_sdks_retry_policy()
    {
        var options = BlobLakeOptions.ForAzurite("http://127.0.0.1:10000/devstoreaccount1", "lake");
        options.MaxRetries = 7;
        options.RetryDelay = TimeSpan.FromMilliseconds(250);
        options.MaxRetryDelay = TimeSpan.FromSeconds(9);
        options.NetworkTimeout = TimeSpan.FromSeconds(42);

        var client = BlobClients.ClientOptions(options, transport: null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal((RetryMode.Exponential, 7, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(42)),
            (client.Retry.Mode, client.Retry.MaxRetries, client.Retry.Delay, client.Retry.MaxDelay, client.Retry.NetworkTimeout));
    }

    private static ServiceProvider Provider(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLake(configuration).AddBlobLake(configuration).BuildServiceProvider();
    }
}
