using System.Buffers;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake.Blob;

/// <summary>
/// The lake in a Blob container (Azure Storage, ADLS Gen2 through the Blob endpoint, Azurite) through
/// Azure.Storage.Blobs: an account key, a SAS, a connection string or Azure.Identity tokens; the SDK's exponential
/// retries. Put-if-absent is an upload with <c>If-None-Match: *</c> (<see cref="ETag.All"/>); objects above
/// <c>SingleUploadLimitBytes</c> go up as blocks committed in one Put Block List, so every replace is atomic for
/// readers. Thread-safe; dispose when done.
/// </summary>
public sealed class BlobLakeStore : ILakeStore, IDisposable
{
    private const int CopyBufferBytes = 1 << 20;

    private readonly BlobLakeOptions _options;
    private readonly BlobContainerClient _container;
    private readonly ILogger _logger;
    private readonly string _containerUri;
    private readonly string _prefix;
    private readonly StorageTransferOptions _transfer;
    private readonly SemaphoreSlim _containerGate = new(1, 1);
    private volatile bool _containerReady;
    private long _listPages;

    /// <summary>A store authorized as <c>Lake:Blob:Credential</c> says (an account key, a SAS, a connection string or Azure.Identity).</summary>
    /// <exception cref="OptionsValidationException">The options have problems; each message names the option and the fix.</exception>
    public BlobLakeStore(BlobLakeOptions options, ILogger<BlobLakeStore>? logger = null)
        : this(options, credential: null, transport: null, logger)
    {
    }

    /// <summary>A store authorized with bearer tokens from <paramref name="credential"/> (credential kinds managedidentity and default).</summary>
    public BlobLakeStore(BlobLakeOptions options, TokenCredential credential, ILogger<BlobLakeStore>? logger = null)
        : this(options, credential ?? throw new ArgumentNullException(nameof(credential)), transport: null, logger)
    {
    }

    internal BlobLakeStore(BlobLakeOptions options, TokenCredential? credential, HttpPipelineTransport? transport, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems();
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(BlobLakeOptions.SectionName, typeof(BlobLakeOptions), problems);
        }

        var kind = options.Credential.Trim().ToLowerInvariant();
        if (credential is not null && kind is not (BlobCredentialKinds.ManagedIdentity or BlobCredentialKinds.Default))
        {
            throw new ArgumentException(
                $"A token credential was given but Lake:Blob:Credential is '{options.Credential}'. Fix: set Lake__Blob__Credential to managedidentity or default.",
                nameof(credential));
        }

        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _prefix = options.NormalizedPrefix();
        var clientOptions = BlobClients.ClientOptions(options, transport, _logger);
        BlobServiceClient service;
        (service, Credential) = BlobClients.Service(options, credential, clientOptions);
        _container = service.GetBlobContainerClient(options.Container);
        _containerUri = options.ResolveServiceUri() + "/" + options.Container;
        _transfer = new StorageTransferOptions
        {
            // At or below this size one Put Blob; above it Put Block × n and one Put Block List.
            InitialTransferSize = Math.Max(1, options.SingleUploadLimitBytes),
            MaximumTransferSize = options.BlockBytes,
            MaximumConcurrency = options.UploadConcurrency,
        };
        Location = _prefix.Length == 0 ? _containerUri : $"{_containerUri}/{_prefix.TrimEnd('/')}";
    }

    /// <summary>The container URI and prefix, e.g. <c>http://127.0.0.1:10000/devstoreaccount1/lake</c>: never a key or SAS.</summary>
    public string Location { get; }

    /// <summary>
    /// What authorizes the requests: a StorageSharedKeyCredential, an AzureSasCredential, a TokenCredential (managed
    /// identity, DefaultAzureCredential), or null for a connection string (the SDK keeps its credential), for inspection.
    /// </summary>
    internal object? Credential { get; }

    /// <summary>The Blob API version the SDK sends.</summary>
    internal BlobClientOptions.ServiceVersion ServiceVersion => _options.ResolveServiceVersion()!.Value;

    /// <summary>List Blobs pages requested so far (tests check continuation with it).</summary>
    internal long ListPagesRequested => Interlocked.Read(ref _listPages);

    public override string ToString() => $"blob lake at {Location}";

    /// <summary>
    /// The object's URL at the Blob endpoint (<c>https://&lt;account&gt;.blob.core.windows.net/&lt;container&gt;/&lt;prefix&gt;&lt;path&gt;</c>,
    /// each segment percent-encoded), for services that read the lake themselves with their own identity, such as
    /// Synapse <c>COPY INTO</c>. It never carries a key or SAS.
    /// </summary>
    public Uri ObjectUri(string path)
    {
        LakePath.Validate(path);
        return new Uri(_containerUri + "/" + string.Join('/', (_prefix + path).Split('/').Select(Uri.EscapeDataString)));
    }

    public async Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await RunAsync("Put Blob", path, () => Blob(path).UploadAsync(BinaryData.FromBytes(content), Upload(conditions: null), cancellationToken), cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<PutOutcome> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var state = new RequestState("Put Blob", path);
        try
        {
            using (state.Scope())
            {
                await Blob(path).UploadAsync(BinaryData.FromBytes(content), Upload(new BlobRequestConditions { IfNoneMatch = ETag.All }), cancellationToken)
                    .ConfigureAwait(false);
            }

            return PutOutcome.Created;
        }
        catch (RequestFailedException e) when (IsAlreadyExists(e))
        {
            // A retried create may have landed on an attempt whose answer was lost: then the blob holds our bytes.
            if (state.Attempts > 1 && await GetAsync(path, cancellationToken).ConfigureAwait(false) is { } existing && existing.AsSpan().SequenceEqual(content.Span))
            {
                BlobLakeLog.RetriedCreateWasOurs(_logger, path);
                return PutOutcome.Created;
            }

            return PutOutcome.AlreadyExists;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            throw Classify(state, e);
        }
    }

    /// <summary>
    /// Replaces an object only while it is still the version <paramref name="etag"/> names (<c>If-Match</c>); false when
    /// another writer changed or deleted it since (412 ConditionNotMet, or 404). A retried attempt whose first answer
    /// was lost also reads false (the blob's ETag moved on by our own write): the caller re-reads, as for a lost race.
    /// </summary>
    public async Task<bool> PutIfMatchAsync(string path, ReadOnlyMemory<byte> content, string etag, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        ArgumentException.ThrowIfNullOrWhiteSpace(etag);
        var state = new RequestState("Put Blob", path);
        try
        {
            using (state.Scope())
            {
                await Blob(path).UploadAsync(BinaryData.FromBytes(content), Upload(new BlobRequestConditions { IfMatch = new ETag(Quoted(etag)) }), cancellationToken)
                    .ConfigureAwait(false);
            }

            return true;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return false;
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            throw Classify(state, e);
        }
    }

    public async Task PutFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(localFile);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await RunAsync("Put Blob", path, () => Blob(path).UploadAsync(localFile, Upload(conditions: null), cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    public async Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        var result = await RunAsync("Get Blob", path, async () =>
        {
            try
            {
                return (await Blob(path).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
        return result is null || IsDirectory(result.Details.Metadata) ? null : result.Content.ToArray();
    }

    public async Task<bool> GetFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(localFile);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        FileStream? file = null;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var state = new RequestState("Get Blob", path);
                try
                {
                    using var scope = state.Scope();
                    BlobDownloadStreamingResult download;
                    try
                    {
                        download = (await Blob(path).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
                    }
                    catch (RequestFailedException e) when (e.Status == 404 && file is null)
                    {
                        return false;
                    }

                    using (download)
                    {
                        if (file is null && IsDirectory(download.Details.Metadata))
                        {
                            return false;
                        }

                        file ??= new FileStream(localFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                        file.SetLength(0);
                        file.Position = 0;
                        // The SDK's stream resumes a broken body itself, with a range and If-Match on the version it started with.
                        var body = download.Content;
                        int n;
                        while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                        }
                    }

                    await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                    return true;
                }
                catch (RequestFailedException e) when (e.Status == 412 && attempt <= _options.MaxRetries)
                {
                    // Replaced while we read it: start over on the new version.
                    BlobLakeLog.ResumingDownload(_logger, path, file?.Position ?? 0, "the blob was replaced during the download, so from its start", attempt + 1);
                }
                catch (Exception e) when (IsFailure(e, cancellationToken))
                {
                    throw Classify(state, e);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async Task<LakeObjectInfo?> GetInfoAsync(string path, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        var properties = await RunAsync("Get Blob Properties", path, async () =>
        {
            try
            {
                return (await Blob(path).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
        return properties is null || IsDirectory(properties.Metadata)
            ? null
            : new LakeObjectInfo(path, properties.ContentLength, properties.LastModified, Unquoted(properties.ETag));
    }

    public IAsyncEnumerable<LakeObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        LakePath.ValidatePrefix(prefix);
        return ListCoreAsync(prefix, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        return await RunAsync("Delete Blob", path, async () =>
        {
            try
            {
                // A retried delete whose first attempt landed finds nothing: the blob is gone either way.
                return (await Blob(path).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 409 && e.ErrorCode is "DirectoryIsNotEmpty" or "OperationNotAllowedOnDirectory")
            {
                // ADLS Gen2: the name is a directory (a prefix of other objects), not an object.
                return false;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the container; false when it already existed.</summary>
    public async Task<bool> CreateContainerIfMissingAsync(CancellationToken cancellationToken = default)
    {
        var created = await RunAsync("Create Container", null,
            async () => await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        _containerReady = true;
        if (created is not null)
        {
            BlobLakeLog.ContainerCreated(_logger, _containerUri);
            return true;
        }

        return false;
    }

    /// <summary>Deletes the whole container (tests and benchmarks clean up with it); false when there was none.</summary>
    internal async Task<bool> DeleteContainerAsync(CancellationToken cancellationToken = default)
    {
        var deleted = await RunAsync("Delete Container", null,
            async () => (await _container.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value, cancellationToken).ConfigureAwait(false);
        _containerReady = false;
        return deleted;
    }

    /// <summary>The committed blocks of a blob (tests check that large uploads went up as blocks).</summary>
    internal async Task<int> CountCommittedBlocksAsync(string path, CancellationToken cancellationToken = default)
    {
        var list = await RunAsync("Get Block List", path,
            async () => (await _container.GetBlockBlobClient(_prefix + path).GetBlockListAsync(BlockListTypes.Committed, cancellationToken: cancellationToken).ConfigureAwait(false)).Value,
            cancellationToken).ConfigureAwait(false);
        return list.CommittedBlocks.Count();
    }

    public void Dispose() => _containerGate.Dispose();

    private async IAsyncEnumerable<LakeObjectInfo> ListCoreAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = new RequestState("List Blobs", prefix.Length == 0 ? "(all)" : prefix + "*");
        // Metadata tells ADLS Gen2's directory entries (hdi_isfolder) from objects.
        var options = new GetBlobsOptions { Prefix = _prefix + prefix, Traits = BlobTraits.Metadata };
        var pages = _container.GetBlobsAsync(options, cancellationToken).AsPages(pageSizeHint: _options.ListPageSize).GetAsyncEnumerator(cancellationToken);
        await using (pages.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    using (state.Scope())
                    {
                        if (!await pages.MoveNextAsync().ConfigureAwait(false))
                        {
                            yield break;
                        }
                    }
                }
                catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode == BlobErrorCode.ContainerNotFound && _options.CreateContainer)
                {
                    // Nothing was ever written: an empty lake.
                    yield break;
                }
                catch (Exception e) when (IsFailure(e, cancellationToken))
                {
                    throw Classify(state, e);
                }

                Interlocked.Increment(ref _listPages);
                foreach (var item in pages.Current.Values)
                {
                    if (!item.Name.StartsWith(_prefix, StringComparison.Ordinal) || IsDirectory(item.Metadata))
                    {
                        continue;
                    }

                    yield return new LakeObjectInfo(item.Name[_prefix.Length..], item.Properties.ContentLength ?? 0,
                        item.Properties.LastModified ?? DateTimeOffset.MinValue, Unquoted(item.Properties.ETag ?? default));
                }
            }
        }
    }

    private BlobClient Blob(string path) => _container.GetBlobClient(_prefix + path);

    private BlobUploadOptions Upload(BlobRequestConditions? conditions) => new() { Conditions = conditions, TransferOptions = _transfer };

    /// <summary>Runs one lake operation with its state on every request, and turns SDK failures into <see cref="BlobLakeException"/>.</summary>
    private async Task<T> RunAsync<T>(string operation, string? path, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        var state = new RequestState(operation, path);
        try
        {
            using (state.Scope())
            {
                return await action().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsFailure(e, cancellationToken))
        {
            throw Classify(state, e);
        }
    }

    private async ValueTask EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (_containerReady || !_options.CreateContainer)
        {
            return;
        }

        await _containerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_containerReady)
            {
                await CreateContainerIfMissingAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _containerGate.Release();
        }
    }

    // Argument errors (bad paths) and the caller's own cancellation pass through unchanged.
    private static bool IsFailure(Exception e, CancellationToken cancellationToken) =>
        e is not (BlobLakeException or ArgumentException) && (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested);

    /// <summary>The operator's view of a failure: what, where, the status and error code (or the connection problem), the attempts, the fix.</summary>
    internal BlobLakeException Classify(RequestState state, Exception e)
    {
        var attempts = Math.Max(state.Attempts, 1);
        if (e is RequestFailedException { Status: > 0 } failed)
        {
            return Failure(state, failed.Status, failed.ErrorCode, ServiceMessage(failed), attempts);
        }

        var fix = e is AuthenticationFailedException or CredentialUnavailableException
            ? $"make sure the process has an Azure identity with the Storage Blob Data Contributor role on the container (Lake:Blob:Credential is '{_options.Credential}')."
            : "check that the Blob endpoint is up and reachable and that Lake:Blob:ServiceUri is right (locally: deploy/local/azurite.sh start <run-folder>).";
        return new BlobLakeException(
            $"Blob lake: {Subject(state)} failed after {attempts} attempt(s): {AttemptPolicy.Describe(e)}. Fix: {fix}",
            state.Operation, state.LakePath, 0, null, attempts, e);
    }

    private BlobLakeException Failure(RequestState state, int status, string? code, string? detail, int attempts)
    {
        var fix = (status, code) switch
        {
            (403, _) => "check Lake:Blob:AccountKey (sharedkey), the SAS token's permissions and expiry (sas, connectionstring), or give the identity the Storage Blob Data Contributor role on the container (managedidentity, default).",
            (404, "ContainerNotFound") => $"create container '{_options.Container}' or set Lake__Blob__CreateContainer=true.",
            (400, _) when code is not null && code.Contains("Header", StringComparison.Ordinal) =>
                $"check Lake:Blob:ApiVersion ({_options.ApiVersion}) against the endpoint (Azurite 3.37 accepts up to 2026-06-06).",
            (408 or 429 or >= 500, _) => $"the service stayed unavailable or throttled through {attempts} attempts: retry later or raise Lake__Blob__MaxRetries.",
            (409 or 412, _) => "another writer changed the blob at the same time: retry the operation.",
            _ => "look the error code up in the Blob service's REST documentation.",
        };
        return new BlobLakeException(
            $"Blob lake: {Subject(state)} failed with {status} {code ?? "(no error code)"}{(detail is null ? "" : $" ({detail})")} after {attempts} attempt(s). Fix: {fix}",
            state.Operation, state.LakePath, status, code, attempts);
    }

    private string Subject(RequestState state) => state.LakePath is null
        ? $"{state.Operation} of {_containerUri}"
        : $"{state.Operation} of '{state.LakePath}' in {Location}";

    private static bool IsAlreadyExists(RequestFailedException e) =>
        (e.Status == 409 && e.ErrorCode == BlobErrorCode.BlobAlreadyExists) || (e.Status == 412 && e.ErrorCode is null or "ConditionNotMet");

    // ADLS Gen2 (hierarchical namespace) answers for directories too; they are prefixes, not objects.
    private static bool IsDirectory(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.TryGetValue("hdi_isfolder", out var folder) && string.Equals(folder, "true", StringComparison.OrdinalIgnoreCase);

    private static string Unquoted(ETag etag) => etag.ToString().Trim('"');

    private static string Quoted(string etag) => etag.StartsWith('"') ? etag : $"\"{etag}\"";

    // The first line of the service's message: what went wrong, without request ids, headers or signing details.
    private static string? ServiceMessage(RequestFailedException e)
    {
        var first = e.Message.Split('\n')[0].Trim();
        return first.Length == 0 || first.StartsWith("Service request failed", StringComparison.Ordinal) ? null : first;
    }
}
