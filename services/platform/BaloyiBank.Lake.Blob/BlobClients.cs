using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Lake.Blob;

/// <summary>What one lake operation is, for retry logs and error messages; handed to the SDK's messages through a property scope.</summary>
internal sealed class RequestState(string operation, string? lakePath)
{
    public const string PropertyName = "BaloyiBank.Lake.Blob.RequestState";

    private int _attempts;

    public string Operation { get; } = operation;

    public string? LakePath { get; } = lakePath;

    /// <summary>The most attempts any one request of the operation took (1 + its retries).</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    public string? LastProblem { get; set; }

    /// <summary>Every request the SDK creates on this async flow carries the state until the scope is disposed.</summary>
    public IDisposable Scope() => HttpPipeline.CreateHttpMessagePropertiesScope(new Dictionary<string, object?> { [PropertyName] = this });

    public void Saw(int attempt)
    {
        int seen;
        while (attempt > (seen = Volatile.Read(ref _attempts)) && Interlocked.CompareExchange(ref _attempts, attempt, seen) != seen)
        {
        }
    }

    public static RequestState? Of(HttpMessage message) =>
        message.TryGetProperty(PropertyName, out var value) && value is RequestState state ? state : null;
}

/// <summary>
/// A per-retry policy added to the SDK's pipeline: counts each request's attempts and logs every retry with what failed
/// the attempt before (paths and status only: the SDK signs after this policy, so no key or token is seen here).
/// </summary>
internal sealed class AttemptPolicy(ILogger logger) : HttpPipelinePolicy
{
    private sealed class Counter
    {
        public int Attempts;
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var state = Before(message);
        try
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            state?.LastProblem = $"status {message.Response.Status}";
        }
        catch (Exception e)
        {
            state?.LastProblem = Describe(e);
            throw;
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var state = Before(message);
        try
        {
            ProcessNext(message, pipeline);
            state?.LastProblem = $"status {message.Response.Status}";
        }
        catch (Exception e)
        {
            state?.LastProblem = Describe(e);
            throw;
        }
    }

    /// <summary>The innermost cause ("SocketException: Connection refused (127.0.0.1:1)"); the SDK's wrappers only repeat it.</summary>
    internal static string Describe(Exception e)
    {
        var inner = e;
        while (true)
        {
            if (inner is AggregateException { InnerExceptions.Count: > 0 } aggregate)
            {
                inner = aggregate.InnerExceptions[^1];
            }
            else if (inner.InnerException is { } next)
            {
                inner = next;
            }
            else
            {
                break;
            }
        }

        // A RequestFailedException's message carries the whole response (headers, body): keep its first line.
        var text = inner.Message.Split('\n')[0].Trim();
        return $"{inner.GetType().Name}: {text}";
    }

    private RequestState? Before(HttpMessage message)
    {
        var state = RequestState.Of(message);
        if (!message.TryGetProperty(typeof(Counter), out var value) || value is not Counter counter)
        {
            counter = new Counter();
            message.SetProperty(typeof(Counter), counter);
        }

        var attempt = ++counter.Attempts;
        state?.Saw(attempt);
        if (attempt > 1 && state is not null)
        {
            BlobLakeLog.Retrying(logger, state.Operation, state.LakePath ?? "(container)", attempt, state.LastProblem ?? "a failure");
        }

        return state;
    }
}

/// <summary>Builds the Azure.Storage.Blobs clients from the options: credential, service version, retries, transport.</summary>
internal static class BlobClients
{
    /// <summary>The SDK's client options from <c>Lake:Blob</c>: MaxRetries, RetryDelay, MaxRetryDelay and NetworkTimeout drive its retry policy.</summary>
    public static BlobClientOptions ClientOptions(BlobLakeOptions options, HttpPipelineTransport? transport, ILogger logger)
    {
        var clientOptions = new BlobClientOptions(options.ResolveServiceVersion() ?? throw new InvalidOperationException("Lake:Blob:ApiVersion was not validated."));
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.Delay = options.RetryDelay;
        clientOptions.Retry.MaxDelay = options.MaxRetryDelay;
        clientOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        clientOptions.Diagnostics.ApplicationId = "BaloyiBank";
        // The SDK's logging redacts Authorization and the SAS signature; never log bodies either.
        clientOptions.Diagnostics.IsLoggingContentEnabled = false;
        clientOptions.AddPolicy(new AttemptPolicy(logger), HttpPipelinePosition.PerRetry);
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        return clientOptions;
    }

    /// <summary>
    /// The service client authorized as <c>Lake:Blob:Credential</c> says, and the credential object it uses (a
    /// StorageSharedKeyCredential, AzureSasCredential or TokenCredential; null for a connection string).
    /// </summary>
    public static (BlobServiceClient Service, object? Credential) Service(BlobLakeOptions options, TokenCredential? credential, BlobClientOptions clientOptions)
    {
        var serviceUri = new Uri(options.ResolveServiceUri());
        switch (options.Credential.Trim().ToLowerInvariant())
        {
            case BlobCredentialKinds.ConnectionString:
                return (new BlobServiceClient(options.ConnectionString.Trim(), clientOptions), null);
            case BlobCredentialKinds.SharedKey:
                var sharedKey = new StorageSharedKeyCredential(options.ResolveAccountName()!, options.ResolveAccountKey()!);
                return (new BlobServiceClient(serviceUri, sharedKey, clientOptions), sharedKey);
            case BlobCredentialKinds.Sas:
                var sas = new AzureSasCredential(options.SasToken.Trim());
                return (new BlobServiceClient(serviceUri, sas, clientOptions), sas);
            default:
                var token = credential ?? CreateCredential(options);
                return (new BlobServiceClient(serviceUri, token, clientOptions), token);
        }
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
