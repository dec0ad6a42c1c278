using System.Net;
using Azure.Identity;

namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>Retries, ambiguous creates and bearer tokens, on a simulated endpoint (no server, no Azure).</summary>
public sealed class SimulatedEndpointTests
{
    [Fact]
    public async Task Transient_503s_are_retried_with_a_fresh_signature_on_a_simulated_endpoint()
    {
        var endpoint = new SimulatedEndpoint((_, _, i) => SimulatedEndpoint.Status(i < 2 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.Created, i < 2 ? "ServerBusy" : null));
        var logger = new TestOutputLogger();
        using var store = Store(endpoint, logger);

        await store.PutAsync("silver/a.json", "{}"u8.ToArray());

        Assert.Equal(3, endpoint.Requests.Count);
        Assert.All(endpoint.Requests, r => Assert.StartsWith("SharedKey devstoreaccount1:", r.Request.Headers.Authorization?.ToString(), StringComparison.Ordinal));
        Assert.All(endpoint.Requests, r => Assert.Equal("{}"u8.ToArray(), r.Body));
        Assert.Equal(2, logger.Lines.Count(l => l.Contains("retrying Put Blob of silver/a.json", StringComparison.Ordinal) && l.Contains("after status 503", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_503_that_never_ends_fails_after_the_retries_naming_status_code_and_fix_on_a_simulated_endpoint()
    {
        var endpoint = new SimulatedEndpoint((_, _, _) => SimulatedEndpoint.Status(HttpStatusCode.ServiceUnavailable, "ServerBusy"));
        using var store = Store(endpoint);

        var error = await Assert.ThrowsAsync<BlobLakeException>(() => store.GetInfoAsync("gold/p.json"));

        Assert.Equal((503, "ServerBusy", 3, "Get Blob Properties"), (error.Status, error.ErrorCode, error.Attempts, error.Operation));
        Assert.Contains("failed with 503 ServerBusy after 3 attempt(s). Fix: the service stayed unavailable or throttled", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, endpoint.Requests.Count);
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_counts_as_created_when_the_blob_holds_our_bytes_on_a_simulated_endpoint()
    {
        byte[]? stored = null;
        var endpoint = new SimulatedEndpoint((request, body, i) =>
        {
            if (request.Method == HttpMethod.Put && stored is null)
            {
                // The write lands, then the connection drops before the answer.
                stored = body;
                throw new HttpRequestException("connection reset (simulated)", new IOException("reset"));
            }

            return request.Method == HttpMethod.Put
                ? SimulatedEndpoint.Status(HttpStatusCode.Conflict, "BlobAlreadyExists")
                : SimulatedEndpoint.Status(HttpStatusCode.OK, body: stored);
        });
        using var store = Store(endpoint);

        var outcome = await store.PutIfAbsentAsync("t/_delta_log/00000000000000000007.json", "commit 7 of writer A"u8.ToArray());

        Assert.Equal(PutOutcome.Created, outcome);
        Assert.Equal(["PUT", "PUT", "GET"], endpoint.Requests.Select(r => r.Request.Method.Method));
        Assert.All(endpoint.Requests.Take(2), r => Assert.Equal("*", r.Request.Headers.IfNoneMatch.Single().Tag));
    }

    [Fact]
    public async Task A_retried_create_that_finds_other_bytes_is_already_exists_on_a_simulated_endpoint()
    {
        var endpoint = new SimulatedEndpoint((request, _, i) => i switch
        {
            0 => SimulatedEndpoint.Status(HttpStatusCode.InternalServerError, "InternalError"),
            1 => SimulatedEndpoint.Status(HttpStatusCode.Conflict, "BlobAlreadyExists"),
            _ => SimulatedEndpoint.Status(HttpStatusCode.OK, body: "commit 7 of writer B"u8.ToArray()),
        });
        using var store = Store(endpoint);

        Assert.Equal(PutOutcome.AlreadyExists, await store.PutIfAbsentAsync("t/_delta_log/00000000000000000007.json", "commit 7 of writer A"u8.ToArray()));
    }

    [Fact]
    public async Task Managed_identity_sends_a_bearer_token_for_the_storage_scope_over_https_with_a_fake_credential_not_run_against_Azure()
    {
        var endpoint = new SimulatedEndpoint((_, _, _) => SimulatedEndpoint.Status(HttpStatusCode.Created));
        var credential = new FakeTokenCredential();
        var options = new BlobLakeOptions { ServiceUri = "https://baloyilake.blob.core.windows.net", Container = "lake", Credential = "managedidentity", CreateContainer = false };
        using var store = new BlobLakeStore(options, credential, endpoint.Transport(), logger: null);

        await store.PutAsync("silver/a.json", "{}"u8.ToArray());

        var request = Assert.Single(endpoint.Requests).Request;
        Assert.Equal("Bearer fake-token-for-tests", request.Headers.Authorization?.ToString());
        Assert.Equal("https://baloyilake.blob.core.windows.net/lake/silver/a.json", request.RequestUri?.ToString());
        Assert.Equal(["https://storage.azure.com/.default"], Assert.Single(credential.Requests));
        Assert.Equal("2026-06-06", request.Headers.GetValues("x-ms-version").Single());
        Assert.Equal("BlockBlob", request.Headers.GetValues("x-ms-blob-type").Single());
    }

    [Fact]
    public void Managed_identity_configuration_builds_a_bearer_policy_on_a_ManagedIdentityCredential_not_run_against_Azure()
    {
        var options = new BlobLakeOptions
        {
            ServiceUri = "https://baloyilake.blob.core.windows.net",
            Container = "lake",
            Credential = "managedidentity",
            ManagedIdentityClientId = "00000000-0000-0000-0000-000000000001",
        };

        // Building the store asks for no token: nothing is sent until the first operation.
        using var store = new BlobLakeStore(options);

        Assert.IsType<ManagedIdentityCredential>(store.Credential);
        Assert.Equal("https://storage.azure.com/.default", BlobLakeOptions.StorageScope);
        Assert.Equal("https://baloyilake.blob.core.windows.net/lake", store.Location);
    }

    [Fact]
    public void Default_credential_configuration_builds_a_DefaultAzureCredential_not_run_against_Azure()
    {
        var options = new BlobLakeOptions { ServiceUri = "https://baloyilake.blob.core.windows.net", Container = "lake", Credential = "default" };

        using var store = new BlobLakeStore(options);

        Assert.IsType<DefaultAzureCredential>(store.Credential);
    }

    [Fact]
    public async Task A_sas_token_is_appended_to_every_request_and_nothing_else_authorizes_on_a_simulated_endpoint()
    {
        var endpoint = new SimulatedEndpoint((_, _, _) => SimulatedEndpoint.Status(HttpStatusCode.OK, body: "x"u8.ToArray()));
        var options = new BlobLakeOptions
        {
            ServiceUri = "https://baloyilake.blob.core.windows.net",
            Container = "lake",
            Credential = "sas",
            SasToken = "?sv=2025-01-05&sp=racwdl&sig=c2lnbmF0dXJl%2Bpart%3D",
            CreateContainer = false,
        };
        using var store = new BlobLakeStore(options, credential: null, endpoint.Transport(), logger: null);

        Assert.Equal("x"u8.ToArray(), await store.GetAsync("a b.json"));

        var request = Assert.Single(endpoint.Requests).Request;
        Assert.Equal("https://baloyilake.blob.core.windows.net/lake/a%20b.json?sv=2025-01-05&sp=racwdl&sig=c2lnbmF0dXJl%2Bpart%3D", request.RequestUri?.AbsoluteUri);
        Assert.Null(request.Headers.Authorization);
        Assert.DoesNotContain("sig", store.Location, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_api_version_the_endpoint_refuses_is_a_400_whose_fix_names_ApiVersion_on_a_simulated_endpoint()
    {
        // What Azurite 3.37 answers (without --skipApiVersionCheck) to the SDK's own default version, 2026-10-06.
        var body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidHeaderValue</Code><Message>The API version 2026-10-06 is not supported by Azurite.\nRequestId:1</Message></Error>"u8.ToArray();
        var endpoint = new SimulatedEndpoint((_, _, _) => SimulatedEndpoint.Status(HttpStatusCode.BadRequest, "InvalidHeaderValue", body));
        var options = BlobLakeOptions.ForAzurite("http://127.0.0.1:1/devstoreaccount1", "lake");
        options.ApiVersion = "2026-10-06";
        options.CreateContainer = false;
        using var store = new BlobLakeStore(options, credential: null, endpoint.Transport(), logger: null);

        var error = await Assert.ThrowsAsync<BlobLakeException>(() => store.GetAsync("a.json"));

        Assert.Equal("2026-10-06", Assert.Single(endpoint.Requests).Request.Headers.GetValues("x-ms-version").Single());
        Assert.Equal((400, "InvalidHeaderValue", 1), (error.Status, error.ErrorCode, error.Attempts));
        Assert.Equal(
            "Blob lake: Get Blob of 'a.json' in http://127.0.0.1:1/devstoreaccount1/lake failed with 400 InvalidHeaderValue (The API version 2026-10-06 is not supported by Azurite.) after 1 attempt(s). "
            + "Fix: check Lake:Blob:ApiVersion (2026-10-06) against the endpoint (Azurite 3.37 accepts up to 2026-06-06).",
            error.Message);
    }

    [Fact]
    public async Task A_refused_upload_keeps_the_services_first_message_line_and_drops_the_rest_on_a_simulated_endpoint()
    {
        var body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AuthorizationFailure</Code><Message>This request is not authorized to perform this operation.\nRequestId:42\nTime:2026-12-07T10:00:00Z</Message></Error>"u8.ToArray();
        var endpoint = new SimulatedEndpoint((_, _, _) => SimulatedEndpoint.Status(HttpStatusCode.Forbidden, "AuthorizationFailure", body));
        using var store = Store(endpoint);

        var error = await Assert.ThrowsAsync<BlobLakeException>(() => store.PutAsync("silver/a.json", "{}"u8.ToArray()));

        Assert.Equal((403, "AuthorizationFailure", "Put Blob", "silver/a.json", 1), (error.Status, error.ErrorCode, error.Operation, error.LakePath, error.Attempts));
        Assert.StartsWith("Blob lake: Put Blob of 'silver/a.json' in http://127.0.0.1:1/devstoreaccount1/lake failed with 403 AuthorizationFailure (This request is not authorized to perform this operation.) after 1 attempt(s). Fix: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: check Lake:Blob:AccountKey (sharedkey)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("RequestId", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(BlobLakeOptions.AzuriteAccountKey, error.ToString(), StringComparison.Ordinal);
    }

    private static BlobLakeStore Store(SimulatedEndpoint endpoint, TestOutputLogger? logger = null)
    {
        var options = BlobLakeOptions.ForAzurite("http://127.0.0.1:1/devstoreaccount1", "lake");
        options.CreateContainer = false;
        options.MaxRetries = 2;
        options.RetryDelay = TimeSpan.FromMilliseconds(5);
        options.MaxRetryDelay = TimeSpan.FromMilliseconds(20);
        return new BlobLakeStore(options, credential: null, endpoint.Transport(), logger);
    }
}
