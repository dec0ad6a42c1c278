using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake.Blob;

/// <summary>
/// The blob lake: a container of an Azure Storage account (ADLS Gen2 included) or of Azurite. Section
/// "Lake:Blob"; environment variables use double underscores, e.g. <c>Lake__Blob__ServiceUri</c>.
/// </summary>
public sealed partial class BlobLakeOptions
{
    public const string SectionName = "Lake:Blob";

    /// <summary>Azurite's development account, whose key Microsoft publishes (it guards nothing).</summary>
    public const string AzuriteAccountName = "devstoreaccount1";

    /// <summary>The published key of <see cref="AzuriteAccountName"/>; used only when that account is named and no key is given.</summary>
    public const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The scope of an Azure Storage data-plane token.</summary>
    public const string StorageScope = "https://storage.azure.com/.default";

    /// <summary>The newest Blob API version Azurite 3.37 accepts; the SDK's own default (2026-10-06) is refused there.</summary>
    public const string DefaultApiVersion = "2026-06-06";

    /// <summary>
    /// The Blob service endpoint: <c>https://&lt;account&gt;.blob.core.windows.net</c> (ADLS Gen2 accounts too: use the
    /// blob endpoint, not dfs) or Azurite's path-style <c>http://127.0.0.1:10000/devstoreaccount1</c>. With credential
    /// connectionstring it may be left empty: the connection string's blob endpoint is used.
    /// </summary>
    public string ServiceUri { get; set; } = "";

    /// <summary>The container holding the lake (3-63 lowercase letters, digits and single hyphens).</summary>
    public string Container { get; set; } = "lake";

    /// <summary>Optional folder inside the container under which every lake path lives, e.g. "prod/" (empty: the container's root).</summary>
    public string Prefix { get; set; } = "";

    /// <summary>How requests are authorized: sharedkey (account key; Azurite), managedidentity, default (DefaultAzureCredential), sas or connectionstring.</summary>
    public string Credential { get; set; } = BlobCredentialKinds.SharedKey;

    /// <summary>The storage account; when empty, taken from <see cref="ServiceUri"/> (host's first label, or Azurite's first path segment).</summary>
    public string AccountName { get; set; } = "";

    /// <summary>
    /// The account key (base64) for sharedkey. Give it through the environment (<c>Lake__Blob__AccountKey</c> or
    /// <c>AZURE_STORAGE_KEY</c>) or a secret store, never a file in the repository. Not needed for Azurite's devstoreaccount1.
    /// </summary>
    public string AccountKey { get; set; } = "";

    /// <summary>A SAS token (the query string, with or without '?') for credential "sas": needs read, add, create, write, delete and list.</summary>
    public string SasToken { get; set; } = "";

    /// <summary>
    /// A storage connection string for credential "connectionstring" (<c>AccountName=…;AccountKey=…</c>,
    /// <c>BlobEndpoint=…;SharedAccessSignature=…</c> or <c>UseDevelopmentStorage=true</c>). It holds a secret: give it
    /// through the environment (<c>Lake__Blob__ConnectionString</c>) or a secret store.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Client id of a user-assigned managed identity; empty: the system-assigned identity.</summary>
    public string ManagedIdentityClientId { get; set; } = "";

    /// <summary>Create the container on first use when it does not exist (needs the right to create containers).</summary>
    public bool CreateContainer { get; set; } = true;

    /// <summary>The Blob API version (x-ms-version) the SDK speaks: one of BlobClientOptions.ServiceVersion's dates (Azurite 3.37 accepts up to 2026-06-06).</summary>
    public string ApiVersion { get; set; } = DefaultApiVersion;

    /// <summary>Objects larger than this are uploaded as blocks (Put Block + Put Block List) rather than one Put Blob.</summary>
    public long SingleUploadLimitBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Size of each block of a block upload.</summary>
    public int BlockBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Blocks of one upload (and ranges of one download) sent at once.</summary>
    public int UploadConcurrency { get; set; } = 4;

    /// <summary>Blobs asked for per List Blobs page (the service's maximum is 5,000).</summary>
    public int ListPageSize { get; set; } = 5000;

    /// <summary>Retries of a request after a connection failure, a timeout or a 408/429/500/502/503/504 (the SDK's exponential back-off).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First back-off delay; it doubles per retry, with jitter.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest back-off delay.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for one attempt to make progress (per read of the response too).</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>A copy for an Azurite endpoint (devstoreaccount1, its published key), e.g. for tests.</summary>
    public static BlobLakeOptions ForAzurite(string serviceUri, string container, string prefix = "") => new()
    {
        ServiceUri = serviceUri,
        Container = container,
        Prefix = prefix,
        Credential = BlobCredentialKinds.SharedKey,
        AccountName = AzuriteAccountName,
    };

    /// <summary>The account name given or derived from <see cref="ServiceUri"/>; null when neither says.</summary>
    public string? ResolveAccountName()
    {
        if (!string.IsNullOrWhiteSpace(AccountName))
        {
            return AccountName.Trim();
        }

        if (IsConnectionString && ParseConnectionString() is { } client)
        {
            return client.AccountName;
        }

        if (!Uri.TryCreate(ResolveServiceUri(), UriKind.Absolute, out var uri))
        {
            return null;
        }

        // Path style (Azurite, IP endpoints): http://127.0.0.1:10000/devstoreaccount1.
        var firstSegment = uri.AbsolutePath.Trim('/').Split('/')[0];
        if (firstSegment.Length > 0)
        {
            return firstSegment;
        }

        // Host style: https://account.blob.core.windows.net.
        return uri.HostNameType == UriHostNameType.Dns && uri.Host.Contains('.', StringComparison.Ordinal) ? uri.Host[..uri.Host.IndexOf('.', StringComparison.Ordinal)] : null;
    }

    /// <summary>The account key given, else AZURE_STORAGE_KEY, else Azurite's published key for devstoreaccount1; null when none.</summary>
    public string? ResolveAccountKey()
    {
        if (!string.IsNullOrWhiteSpace(AccountKey))
        {
            return AccountKey.Trim();
        }

        if (Environment.GetEnvironmentVariable("AZURE_STORAGE_KEY") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment.Trim();
        }

        return string.Equals(ResolveAccountName(), AzuriteAccountName, StringComparison.Ordinal) ? AzuriteAccountKey : null;
    }

    /// <summary>
    /// The Blob service endpoint without a trailing '/': <see cref="ServiceUri"/>, or for credential connectionstring
    /// without one, the connection string's blob endpoint (never its key or SAS).
    /// </summary>
    public string ResolveServiceUri()
    {
        if (!string.IsNullOrWhiteSpace(ServiceUri) || !IsConnectionString)
        {
            return (ServiceUri ?? "").Trim().TrimEnd('/');
        }

        return ParseConnectionString()?.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/') ?? "";
    }

    /// <summary>The Blob API version as the SDK's enum; null when <see cref="ApiVersion"/> names none it knows.</summary>
    public BlobClientOptions.ServiceVersion? ResolveServiceVersion() =>
        ApiVersionPattern().IsMatch(ApiVersion?.Trim() ?? "")
        && Enum.TryParse<BlobClientOptions.ServiceVersion>("V" + ApiVersion!.Trim().Replace('-', '_'), out var version)
        && Enum.IsDefined(version)
            ? version
            : null;

    internal bool IsConnectionString => string.Equals((Credential ?? "").Trim(), BlobCredentialKinds.ConnectionString, StringComparison.OrdinalIgnoreCase);

    /// <summary>A client parsed from <see cref="ConnectionString"/> (no request is sent); null when it is not a storage connection string.</summary>
    internal BlobServiceClient? ParseConnectionString()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            return null;
        }

        try
        {
            return new BlobServiceClient(ConnectionString.Trim());
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            // The SDK's message may quote the string, and with it the key: the caller reports "value not shown".
            return null;
        }
    }

    /// <summary>The prefix as stored: empty, or ending with one '/'.</summary>
    public string NormalizedPrefix()
    {
        var prefix = (Prefix ?? "").Trim();
        return prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";
    }

    /// <summary>Every problem of these options, as "Lake:Blob:Key problem. Fix: ..." sentences.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new OptionProblems(SectionName);
        var credential = (Credential ?? "").Trim().ToLowerInvariant();
        if (credential == BlobCredentialKinds.ConnectionString)
        {
            var parsed = ParseConnectionString();
            problems.Require(parsed is not null, "ConnectionString",
                string.IsNullOrWhiteSpace(ConnectionString) ? "is needed for credential connectionstring (got nothing)" : "is not a storage connection string (value not shown)",
                "set Lake__Blob__ConnectionString from a secret store to the account's connection string (AccountName=...;AccountKey=... or BlobEndpoint=...;SharedAccessSignature=...), or UseDevelopmentStorage=true for Azurite.");
            if (parsed is null)
            {
                return problems.Failures;
            }

            var endpoint = parsed.Uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
            problems.Require(string.IsNullOrWhiteSpace(ServiceUri) || string.Equals(ServiceUri.Trim().TrimEnd('/'), endpoint, StringComparison.OrdinalIgnoreCase), "ServiceUri",
                $"differs from the connection string's blob endpoint {endpoint} (got '{Redact(ServiceUri)}')",
                "leave Lake__Blob__ServiceUri unset with credential connectionstring, or make the two agree.");
        }

        var serviceUri = ResolveServiceUri();
        var uriOk = Uri.TryCreate(serviceUri, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);
        problems.Require(uriOk, "ServiceUri",
            string.IsNullOrWhiteSpace(ServiceUri) ? "must name the Blob service endpoint (got nothing)" : $"must be an absolute http(s) URI without a query (got '{Redact(ServiceUri)}')",
            "set Lake__Blob__ServiceUri to https://<account>.blob.core.windows.net, or http://127.0.0.1:10000/devstoreaccount1 for Azurite.");
        problems.Require(ContainerName().IsMatch(Container ?? "") && !(Container ?? "").Contains("--", StringComparison.Ordinal), "Container",
            $"must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit (got '{Container}')",
            "set Lake__Blob__Container, e.g. to lake.");
        var prefix = NormalizedPrefix();
        var prefixOk = true;
        if (prefix.Length > 0)
        {
            try
            {
                LakePath.Validate(prefix.TrimEnd('/'));
            }
            catch (ArgumentException)
            {
                prefixOk = false;
            }
        }

        problems.Require(prefixOk, "Prefix", $"must be a relative '/'-separated folder without '.', '..' or empty segments (got '{Prefix}')",
            "set Lake__Blob__Prefix to a folder such as prod/ or leave it empty.");

        problems.Require(BlobCredentialKinds.All.Contains(credential), "Credential",
            $"must be one of {string.Join(", ", BlobCredentialKinds.All)} (got '{Credential}')",
            "set Lake__Blob__Credential to sharedkey (account key, Azurite), managedidentity (Azure), default (DefaultAzureCredential), sas or connectionstring.");
        switch (credential)
        {
            case BlobCredentialKinds.SharedKey:
                problems.Require(ResolveAccountName() is { Length: > 0 }, "AccountName", "is needed for sharedkey and cannot be read from ServiceUri (got nothing)",
                    "set Lake__Blob__AccountName to the storage account's name.");
                var key = ResolveAccountKey();
                problems.Require(key is { Length: > 0 }, "AccountKey", "is needed for sharedkey (got nothing)",
                    "set Lake__Blob__AccountKey (or AZURE_STORAGE_KEY) from a secret store, or use Lake__Blob__Credential=managedidentity.");
                if (key is { Length: > 0 })
                {
                    problems.Require(IsBase64(key), "AccountKey", "is not base64 (value not shown)",
                        "copy the key exactly from the storage account's Access keys (it ends with '==').");
                }

                break;
            case BlobCredentialKinds.ManagedIdentity or BlobCredentialKinds.Default:
                problems.Require(!uriOk || uri!.Scheme == "https", "ServiceUri", $"must use https with credential {credential} (got '{Redact(ServiceUri)}')",
                    "bearer tokens are only sent over TLS: use https://<account>.blob.core.windows.net, or Credential=sharedkey for Azurite.");
                break;
            case BlobCredentialKinds.Sas:
                problems.Require(!string.IsNullOrWhiteSpace(SasToken) && SasToken.Contains("sig=", StringComparison.Ordinal), "SasToken",
                    "is needed for credential sas and must contain sig= (value not shown)",
                    "set Lake__Blob__SasToken to a container SAS with racwdl permissions, from a secret store.");
                break;
        }

        problems.Require(ResolveServiceVersion() is not null, "ApiVersion",
            $"must be a Blob API version Azure.Storage.Blobs knows, such as {DefaultApiVersion} (got '{ApiVersion}')",
            $"leave Lake__Blob__ApiVersion unset ({DefaultApiVersion}) or set a version the endpoint accepts (Azurite 3.37: up to 2026-06-06).");
        problems.Require(BlockBytes is >= 64 * 1024 and <= 100 * 1024 * 1024, "BlockBytes", string.Create(CultureInfo.InvariantCulture, $"must be between 65536 and 104857600 (got {BlockBytes})"),
            "set Lake__Blob__BlockBytes, e.g. to 8388608 (8 MiB).");
        problems.Require(SingleUploadLimitBytes is >= 0 and <= 256L * 1024 * 1024, "SingleUploadLimitBytes",
            string.Create(CultureInfo.InvariantCulture, $"must be between 0 and 268435456 (got {SingleUploadLimitBytes})"),
            "set Lake__Blob__SingleUploadLimitBytes, e.g. to 16777216 (16 MiB).");
        problems.Require(UploadConcurrency is >= 1 and <= 64, "UploadConcurrency", string.Create(CultureInfo.InvariantCulture, $"must be between 1 and 64 (got {UploadConcurrency})"),
            "set Lake__Blob__UploadConcurrency, e.g. to 4.");
        problems.Require(ListPageSize is >= 1 and <= 5000, "ListPageSize", string.Create(CultureInfo.InvariantCulture, $"must be between 1 and 5000 (got {ListPageSize})"),
            "set Lake__Blob__ListPageSize, e.g. to 5000.");
        problems.Require(MaxRetries is >= 0 and <= 20, "MaxRetries", string.Create(CultureInfo.InvariantCulture, $"must be between 0 and 20 (got {MaxRetries})"),
            "set Lake__Blob__MaxRetries, e.g. to 5.");
        problems.Require(RetryDelay > TimeSpan.Zero && RetryDelay <= MaxRetryDelay, "RetryDelay",
            $"must be positive and at most MaxRetryDelay {MaxRetryDelay} (got {RetryDelay})", "set Lake__Blob__RetryDelay, e.g. to 00:00:00.5.");
        problems.Require(NetworkTimeout >= TimeSpan.FromSeconds(1), "NetworkTimeout", $"must be at least one second (got {NetworkTimeout})",
            "set Lake__Blob__NetworkTimeout, e.g. to 00:01:40.");
        return problems.Failures;
    }

    // A URI given by mistake with a SAS query must not end up in a log.
    private static string Redact(string value) => value.Contains('?', StringComparison.Ordinal) ? value[..value.IndexOf('?', StringComparison.Ordinal)] + "?<redacted>" : value;

    private static bool IsBase64(string value)
    {
        Span<byte> buffer = stackalloc byte[256];
        return value.Length <= 340 && Convert.TryFromBase64String(value, buffer, out var written) && written > 0;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerName();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex ApiVersionPattern();
}

/// <summary>Values of <c>Lake:Blob:Credential</c>.</summary>
public static class BlobCredentialKinds
{
    public const string SharedKey = "sharedkey";
    public const string ManagedIdentity = "managedidentity";
    public const string Default = "default";
    public const string Sas = "sas";
    public const string ConnectionString = "connectionstring";

    public static readonly IReadOnlyList<string> All = [SharedKey, ManagedIdentity, Default, Sas, ConnectionString];
}

/// <summary>
/// Checks "Lake:Blob" at start-up when <c>Lake:Kind</c> is blob (a folder lake ignores the section). Registered by
/// <see cref="BlobLakeServiceCollectionExtensions.AddBlobLake"/> as a validator of <see cref="LakeOptions"/>, so the
/// problems arrive with those of "Lake".
/// </summary>
public sealed class BlobLakeOptionsValidator(IOptions<BlobLakeOptions> blob) : IValidateOptions<LakeOptions>
{
    public ValidateOptionsResult Validate(string? name, LakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.Equals(options.Kind, LakeOptions.BlobKind, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Success;
        }

        var problems = blob.Value.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
