using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Lake.Blob;

/// <summary>Azure.Core's client options for the blob lake: retries, diagnostics, transport.</summary>
internal sealed class BlobLakeClientOptions : ClientOptions
{
}

/// <summary>What one request is, for retry logs and error messages; carried on the message.</summary>
internal sealed class RequestState(string operation, string? lakePath)
{
    public string Operation { get; } = operation;

    public string? LakePath { get; } = lakePath;

    public int Attempts { get; set; }

    public string? LastProblem { get; set; }

    public static RequestState Of(HttpMessage message) =>
        message.TryGetProperty(typeof(RequestState), out var value) && value is RequestState state ? state : new("request", null);
}

/// <summary>Counts attempts and logs each retry with what failed the one before (per-retry, so it sees every attempt).</summary>
internal sealed class AttemptPolicy(ILogger logger) : HttpPipelinePolicy
{
    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var state = Before(message);
        try
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            state.LastProblem = $"status {message.Response.Status}";
        }
        catch (Exception e)
        {
            state.LastProblem = Describe(e);
            throw;
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var state = Before(message);
        try
        {
            ProcessNext(message, pipeline);
            state.LastProblem = $"status {message.Response.Status}";
        }
        catch (Exception e)
        {
            state.LastProblem = Describe(e);
            throw;
        }
    }

    internal static string Describe(Exception e)
    {
        // The innermost message says what happened ("Connection refused (127.0.0.1:1)"); the outer ones wrap it.
        var inner = e;
        while (inner.InnerException is { } next)
        {
            inner = next;
        }

        return $"{inner.GetType().Name}: {inner.Message}";
    }

    private RequestState Before(HttpMessage message)
    {
        var state = RequestState.Of(message);
        state.Attempts++;
        if (state.Attempts > 1)
        {
            BlobLakeLog.Retrying(logger, state.Operation, state.LakePath ?? "(container)", state.Attempts, state.LastProblem ?? "a failure");
        }

        return state;
    }
}

/// <summary>Sets x-ms-version on every request.</summary>
internal sealed class ApiVersionPolicy(string version) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message) => message.Request.Headers.SetValue("x-ms-version", version);
}

/// <summary>Appends a SAS token's parameters to every request.</summary>
internal sealed class SasPolicy(string sasToken) : HttpPipelineSynchronousPolicy
{
    private readonly string[] _parameters = sasToken.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries);

    public override void OnSendingRequest(HttpMessage message)
    {
        if (message.Request.Uri.Query.Contains("sig=", StringComparison.Ordinal))
        {
            return;
        }

        foreach (var parameter in _parameters)
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            // The token's values are already URL-encoded: append them as given.
            message.Request.Uri.AppendQuery(equals < 0 ? parameter : parameter[..equals], equals < 0 ? "" : parameter[(equals + 1)..], escapeValue: false);
        }
    }
}

/// <summary>Builds the HttpPipeline from the options: per-call x-ms-version, per-retry attempt counting and authorization.</summary>
internal static class BlobPipeline
{
    public static (HttpPipeline Pipeline, HttpPipelinePolicy Authorization, TokenCredential? Credential, IDisposable? Owned) Build(
        BlobLakeOptions options, TokenCredential? credential, HttpPipelineTransport? transport, ILogger logger)
    {
        var clientOptions = new BlobLakeClientOptions();
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.Delay = options.RetryDelay;
        clientOptions.Retry.MaxDelay = options.MaxRetryDelay;
        clientOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        clientOptions.Diagnostics.ApplicationId = "BaloyiBank";
        // Azure.Core's logging policy redacts Authorization and query values it was not told about; keep it that way.
        clientOptions.Diagnostics.IsLoggingContentEnabled = false;

        IDisposable? owned = null;
        if (transport is null)
        {
            var handler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(15),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
                AutomaticDecompression = DecompressionMethods.None,
                UseCookies = false,
                MaxConnectionsPerServer = 64,
            };
            var httpTransport = new HttpClientTransport(handler);
            owned = httpTransport;
            transport = httpTransport;
        }

        clientOptions.Transport = transport;

        var kind = options.Credential.Trim().ToLowerInvariant();
        TokenCredential? usedCredential = null;
        HttpPipelinePolicy authorization;
        switch (kind)
        {
            case BlobCredentialKinds.SharedKey when credential is null:
                authorization = new SharedKeyPolicy(options.ResolveAccountName()!, options.ResolveAccountKey()!);
                break;
            case BlobCredentialKinds.Sas when credential is null:
                authorization = new SasPolicy(options.SasToken.Trim());
                break;
            default:
                usedCredential = credential ?? CreateCredential(options);
                authorization = new BearerTokenAuthenticationPolicy(usedCredential, BlobLakeOptions.StorageScope);
                break;
        }

        var pipeline = HttpPipelineBuilder.Build(
            clientOptions,
            [new ApiVersionPolicy(options.ApiVersion)],
            [new AttemptPolicy(logger), authorization],
            new ResponseClassifier());
        return (pipeline, authorization, usedCredential, owned);
    }

    /// <summary>The Azure.Identity credential that <c>Lake:Blob:Credential</c> names (no token is asked for here).</summary>
    internal static TokenCredential CreateCredential(BlobLakeOptions options)
    {
        var clientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId) ? null : options.ManagedIdentityClientId.Trim();
        return options.Credential.Trim().ToLowerInvariant() switch
        {
            BlobCredentialKinds.ManagedIdentity => new ManagedIdentityCredential(
                clientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(clientId)),
            BlobCredentialKinds.Default => new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId }),
            var other => throw new InvalidOperationException($"Lake:Blob:Credential '{other}' does not use a token credential."),
        };
    }
}
