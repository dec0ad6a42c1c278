using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake.Blob;

/// <summary>
/// The lake in a Blob container (Azure Storage, ADLS Gen2 through the Blob endpoint, Azurite), spoken over the
/// Blob REST API through Azure.Core's pipeline: retries with exponential back-off, Shared Key signing, bearer
/// tokens from Azure.Identity, or a SAS. Put-if-absent is Put Blob (or Put Block List) with <c>If-None-Match: *</c>;
/// large objects go up as blocks, so every replace is atomic for readers. Thread-safe; dispose to release
/// its connections.
/// </summary>
public sealed class BlobLakeStore : ILakeStore, IDisposable
{
    private const int CopyBufferBytes = 1 << 20;

    private readonly BlobLakeOptions _options;
    private readonly HttpPipeline _pipeline;
    private readonly IDisposable? _ownedTransport;
    private readonly ILogger _logger;
    private readonly string _containerUri;
    private readonly string _prefix;
    private readonly SemaphoreSlim _containerGate = new(1, 1);
    private volatile bool _containerReady;
    private long _listPages;

    /// <summary>A store authorized as <c>Lake:Blob:Credential</c> says (an account key, Azure.Identity, or a SAS).</summary>
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
        _containerUri = options.ServiceUri.Trim().TrimEnd('/') + "/" + options.Container;
        (_pipeline, AuthorizationPolicy, Credential, _ownedTransport) = BlobPipeline.Build(options, credential, transport, _logger);
        Location = _prefix.Length == 0 ? _containerUri : $"{_containerUri}/{_prefix.TrimEnd('/')}";
    }

    /// <summary>The container URI and prefix, e.g. <c>http://127.0.0.1:10000/devstoreaccount1/lake</c>: never a key or SAS.</summary>
    public string Location { get; }

    /// <summary>The authorization step of the pipeline (Shared Key, bearer token or SAS), for inspection.</summary>
    internal HttpPipelinePolicy AuthorizationPolicy { get; }

    /// <summary>The token credential behind a bearer policy; null for Shared Key and SAS.</summary>
    internal TokenCredential? Credential { get; }

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
        return new Uri(BlobUri(path));
    }

    public async Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var (response, state) = await UploadAsync(path, content.Length, FromMemory(content), ifAbsent: false, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw Failure(state, response);
        }
    }

    public async Task<PutOutcome> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var (response, state) = await UploadAsync(path, content.Length, FromMemory(content), ifAbsent: true, cancellationToken).ConfigureAwait(false);
        if (response.Status == 201)
        {
            return PutOutcome.Created;
        }

        if (!IsAlreadyExists(response))
        {
            throw Failure(state, response);
        }

        // A retried create may have landed on an attempt whose answer was lost: then the blob holds our bytes.
        if (state.Attempts > 1 && await GetAsync(path, cancellationToken).ConfigureAwait(false) is { } existing && existing.AsSpan().SequenceEqual(content.Span))
        {
            BlobLakeLog.RetriedCreateWasOurs(_logger, path);
            return PutOutcome.Created;
        }

        return PutOutcome.AlreadyExists;
    }

    public async Task PutFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(localFile);
        using var handle = File.OpenHandle(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        var length = RandomAccess.GetLength(handle);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var (response, state) = await UploadAsync(path, length, async (offset, size, ct) =>
        {
            var rented = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
            var read = 0;
            while (read < size)
            {
                var n = await RandomAccess.ReadAsync(handle, rented.AsMemory(read, size - read), offset + read, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                    throw new IOException($"'{localFile}' shrank while it was uploaded to {path} (ended at byte {offset + read} of {length}).");
                }

                read += n;
            }

            return new BlockData(rented.AsMemory(0, size), rented);
        }, ifAbsent: false, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw Failure(state, response);
        }
    }

    public async Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        using var message = CreateMessage(RequestMethod.Get, BlobUri(path));
        var (response, state) = await SendAsync(message, "Get Blob", path, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            200 when IsDirectory(response) => null,
            200 => response.Content.ToArray(),
            404 => null,
            _ => throw Failure(state, response),
        };
    }

    public async Task<bool> GetFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(localFile);
        FileStream? file = null;
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            long written = 0;
            long? total = null;
            string? etag = null;
            for (var attempt = 1; ; attempt++)
            {
                using var message = CreateMessage(RequestMethod.Get, BlobUri(path));
                message.BufferResponse = false;
                if (written > 0)
                {
                    // Resume where the broken download stopped, only from the same version of the blob.
                    message.Request.Headers.SetValue("x-ms-range", string.Create(CultureInfo.InvariantCulture, $"bytes={written}-"));
                    message.Request.Headers.SetValue("If-Match", $"\"{etag}\"");
                }

                var (response, state) = await SendAsync(message, "Get Blob", path, cancellationToken).ConfigureAwait(false);
                if (written == 0 && (response.Status == 404 || (response.Status == 200 && IsDirectory(response))))
                {
                    return false;
                }

                if (response.Status == 412 && written > 0 && attempt <= _options.MaxRetries)
                {
                    // Replaced while we read it: start over on the new version.
                    written = 0;
                    file!.SetLength(0);
                    file.Position = 0;
                    continue;
                }

                if (response.Status is not (200 or 206))
                {
                    throw Failure(state, response);
                }

                if (written == 0)
                {
                    etag = ETagOf(response);
                    total = response.Headers.ContentLength;
                    file ??= new FileStream(localFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                }

                try
                {
                    var body = response.ContentStream ?? Stream.Null;
                    await using (body.ConfigureAwait(false))
                    {
                        int n;
                        while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            await file!.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                            written += n;
                        }
                    }
                }
                catch (Exception e) when (IsBrokenStream(e, cancellationToken) && attempt <= _options.MaxRetries)
                {
                    BlobLakeLog.ResumingDownload(_logger, path, written, AttemptPolicy.Describe(e), attempt + 1);
                    continue;
                }

                if (total is { } expected && written != expected)
                {
                    if (attempt <= _options.MaxRetries)
                    {
                        BlobLakeLog.ResumingDownload(_logger, path, written, "the body ended early", attempt + 1);
                        continue;
                    }

                    throw new BlobLakeException(
                        $"Blob lake: Get Blob of '{path}' in {Location} ended at byte {written} of {expected} after {attempt} attempts. Fix: check the network to the endpoint and retry.",
                        "Get Blob", path, 200, null, attempt);
                }

                await file!.FlushAsync(cancellationToken).ConfigureAwait(false);
                return true;
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
        using var message = CreateMessage(RequestMethod.Head, BlobUri(path));
        var (response, state) = await SendAsync(message, "Get Blob Properties", path, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            200 when IsDirectory(response) => null,
            200 => new LakeObjectInfo(path, response.Headers.ContentLength ?? 0, LastModifiedOf(response), ETagOf(response)),
            404 => null,
            _ => throw Failure(state, response),
        };
    }

    public IAsyncEnumerable<LakeObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        LakePath.ValidatePrefix(prefix);
        return ListCoreAsync(prefix, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        LakePath.Validate(path);
        using var message = CreateMessage(RequestMethod.Delete, BlobUri(path));
        var (response, state) = await SendAsync(message, "Delete Blob", path, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            202 => true,
            // A retried delete whose first attempt landed finds nothing: the blob is gone either way.
            404 => false,
            // ADLS Gen2: the name is a directory (a prefix of other objects), not an object.
            409 when ErrorCodeOf(response) is "DirectoryIsNotEmpty" or "OperationNotAllowedOnDirectory" => false,
            _ => throw Failure(state, response),
        };
    }

    /// <summary>Creates the container; false when it already existed.</summary>
    public async Task<bool> CreateContainerIfMissingAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Put, _containerUri);
        message.Request.Uri.AppendQuery("restype", "container");
        var (response, state) = await SendAsync(message, "Create Container", null, cancellationToken).ConfigureAwait(false);
        switch (response.Status)
        {
            case 201:
                BlobLakeLog.ContainerCreated(_logger, _containerUri);
                _containerReady = true;
                return true;
            case 409 when ErrorCodeOf(response) == "ContainerAlreadyExists":
                _containerReady = true;
                return false;
            default:
                throw Failure(state, response);
        }
    }

    /// <summary>Deletes the whole container (tests and benchmarks clean up with it); false when there was none.</summary>
    internal async Task<bool> DeleteContainerAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, _containerUri);
        message.Request.Uri.AppendQuery("restype", "container");
        var (response, state) = await SendAsync(message, "Delete Container", null, cancellationToken).ConfigureAwait(false);
        _containerReady = false;
        return response.Status switch
        {
            202 => true,
            404 => false,
            _ => throw Failure(state, response),
        };
    }

    /// <summary>The committed blocks of a blob (tests check that large uploads went up as blocks).</summary>
    internal async Task<int> CountCommittedBlocksAsync(string path, CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Get, BlobUri(path));
        message.Request.Uri.AppendQuery("comp", "blocklist");
        message.Request.Uri.AppendQuery("blocklisttype", "committed");
        var (response, state) = await SendAsync(message, "Get Block List", path, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw Failure(state, response);
        }

        var document = XDocument.Load(response.Content.ToStream());
        return document.Descendants("CommittedBlocks").Elements("Block").Count();
    }

    public void Dispose()
    {
        _containerGate.Dispose();
        _ownedTransport?.Dispose();
    }

    private async IAsyncEnumerable<LakeObjectInfo> ListCoreAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? marker = null;
        do
        {
            using var message = CreateMessage(RequestMethod.Get, _containerUri);
            var uri = message.Request.Uri;
            uri.AppendQuery("restype", "container");
            uri.AppendQuery("comp", "list");
            if (_prefix.Length + prefix.Length > 0)
            {
                uri.AppendQuery("prefix", _prefix + prefix);
            }

            uri.AppendQuery("maxresults", _options.ListPageSize.ToString(CultureInfo.InvariantCulture));
            if (marker is not null)
            {
                uri.AppendQuery("marker", marker);
            }

            var (response, state) = await SendAsync(message, "List Blobs", prefix.Length == 0 ? "(all)" : prefix + "*", cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _listPages);
            if (response.Status == 404 && ErrorCodeOf(response) == "ContainerNotFound" && _options.CreateContainer)
            {
                // Nothing was ever written: an empty lake.
                yield break;
            }

            if (response.Status != 200)
            {
                throw Failure(state, response);
            }

            var (items, next) = BlobListing.Parse(response.Content.ToStream());
            foreach (var item in items)
            {
                if (!item.Name.StartsWith(_prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                yield return new LakeObjectInfo(item.Name[_prefix.Length..], item.Size, item.LastModified, item.ETag);
            }

            marker = string.IsNullOrEmpty(next) ? null : next;
        }
        while (marker is not null);
    }

    private async ValueTask<(Response Response, RequestState State)> UploadAsync(
        string path, long length, Func<long, int, CancellationToken, ValueTask<BlockData>> read, bool ifAbsent, CancellationToken cancellationToken)
    {
        if (length <= _options.SingleUploadLimitBytes)
        {
            var data = await read(0, (int)length, cancellationToken).ConfigureAwait(false);
            try
            {
                using var message = CreateMessage(RequestMethod.Put, BlobUri(path));
                message.Request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
                if (ifAbsent)
                {
                    message.Request.Headers.SetValue("If-None-Match", "*");
                }

                message.Request.Content = RequestContent.Create(data.Memory);
                return await SendAsync(message, "Put Blob", path, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                data.Return();
            }
        }

        // Blocks are staged under ids unique to this upload, then committed in one Put Block List: a reader sees
        // the old blob or the new one, and racing uploads of one name never mix their blocks.
        var block = _options.BlockBytes;
        var count = checked((int)((length + block - 1) / block));
        var upload = Guid.NewGuid().ToString("N");
        var ids = Enumerable.Range(0, count)
            .Select(i => Convert.ToBase64String(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{upload}-{i:D6}"))))
            .ToArray();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.UploadConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (i, ct) =>
        {
            var offset = (long)i * block;
            var data = await read(offset, (int)Math.Min(block, length - offset), ct).ConfigureAwait(false);
            try
            {
                using var message = CreateMessage(RequestMethod.Put, BlobUri(path));
                message.Request.Uri.AppendQuery("comp", "block");
                message.Request.Uri.AppendQuery("blockid", ids[i]);
                message.Request.Content = RequestContent.Create(data.Memory);
                var (response, state) = await SendAsync(message, "Put Block", path, ct).ConfigureAwait(false);
                if (response.Status != 201)
                {
                    throw Failure(state, response);
                }
            }
            finally
            {
                data.Return();
            }
        }).ConfigureAwait(false);

        var list = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>", 64 + (count * 60));
        foreach (var id in ids)
        {
            list.Append("<Latest>").Append(id).Append("</Latest>");
        }

        list.Append("</BlockList>");
        using var commit = CreateMessage(RequestMethod.Put, BlobUri(path));
        commit.Request.Uri.AppendQuery("comp", "blocklist");
        if (ifAbsent)
        {
            commit.Request.Headers.SetValue("If-None-Match", "*");
        }

        commit.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(list.ToString()));
        return await SendAsync(commit, "Put Block List", path, cancellationToken).ConfigureAwait(false);
    }

    private static Func<long, int, CancellationToken, ValueTask<BlockData>> FromMemory(ReadOnlyMemory<byte> content) =>
        (offset, size, _) => ValueTask.FromResult(new BlockData(content.Slice((int)offset, size), null));

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

    private HttpMessage CreateMessage(RequestMethod method, string uri)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(new Uri(uri));
        return message;
    }

    private string BlobUri(string path) =>
        _containerUri + "/" + string.Join('/', (_prefix + path).Split('/').Select(Uri.EscapeDataString));

    private async ValueTask<(Response Response, RequestState State)> SendAsync(HttpMessage message, string operation, string? path, CancellationToken cancellationToken)
    {
        var state = new RequestState(operation, path);
        message.SetProperty(typeof(RequestState), state);
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(state, e);
        }

        return (message.Response, state);
    }

    private BlobLakeException Unreachable(RequestState state, Exception e)
    {
        var attempts = Math.Max(state.Attempts, 1);
        var what = Subject(state);
        var fix = e is AuthenticationFailedException or CredentialUnavailableException
            ? $"make sure the process has an Azure identity with the Storage Blob Data Contributor role on the container (Lake:Blob:Credential is '{_options.Credential}')."
            : "check that the Blob endpoint is up and reachable and that Lake:Blob:ServiceUri is right (locally: deploy/local/azurite.sh start <run-folder>).";
        return new BlobLakeException(
            $"Blob lake: {what} failed after {attempts} attempt(s): {AttemptPolicy.Describe(e)}. Fix: {fix}",
            state.Operation, state.LakePath, 0, null, attempts, e);
    }

    private BlobLakeException Failure(RequestState state, Response response)
    {
        var code = ErrorCodeOf(response);
        var detail = ServiceMessage(response);
        var fix = (response.Status, code) switch
        {
            (403, _) => "check Lake:Blob:AccountKey (sharedkey), the SAS token's permissions and expiry (sas), or give the identity the Storage Blob Data Contributor role on the container (managedidentity, default).",
            (404, "ContainerNotFound") => $"create container '{_options.Container}' or set Lake__Blob__CreateContainer=true.",
            (400, _) when code is not null && code.Contains("Header", StringComparison.Ordinal) =>
                $"check Lake:Blob:ApiVersion ({_options.ApiVersion}) against the endpoint (Azurite 3.37 accepts up to 2026-06-06).",
            (408 or 429 or >= 500, _) => $"the service stayed unavailable or throttled through {state.Attempts} attempts: retry later or raise Lake__Blob__MaxRetries.",
            (409 or 412, _) => "another writer changed the blob at the same time: retry the operation.",
            _ => "look the error code up in the Blob service's REST documentation.",
        };
        return new BlobLakeException(
            $"Blob lake: {Subject(state)} failed with {response.Status} {code ?? response.ReasonPhrase}{(detail is null ? "" : $" ({detail})")} after {state.Attempts} attempt(s). Fix: {fix}",
            state.Operation, state.LakePath, response.Status, code, state.Attempts);
    }

    private string Subject(RequestState state) => state.LakePath is null
        ? $"{state.Operation} of {_containerUri}"
        : $"{state.Operation} of '{state.LakePath}' in {Location}";

    private static bool IsAlreadyExists(Response response) =>
        (response.Status == 409 && ErrorCodeOf(response) == "BlobAlreadyExists") || (response.Status == 412 && ErrorCodeOf(response) is null or "ConditionNotMet");

    private static bool IsBrokenStream(Exception e, CancellationToken cancellationToken) =>
        e is IOException or HttpRequestException or ObjectDisposedException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    // ADLS Gen2 (hierarchical namespace) answers for directories too; they are prefixes, not objects.
    private static bool IsDirectory(Response response) =>
        (response.Headers.TryGetValue("x-ms-meta-hdi_isfolder", out var folder) && string.Equals(folder, "true", StringComparison.OrdinalIgnoreCase))
        || (response.Headers.TryGetValue("x-ms-resource-type", out var type) && string.Equals(type, "directory", StringComparison.OrdinalIgnoreCase));

    private static string? ErrorCodeOf(Response response) =>
        response.Headers.TryGetValue("x-ms-error-code", out var code) ? code : null;

    private static string ETagOf(Response response) =>
        response.Headers.TryGetValue("ETag", out var etag) ? etag.Trim('"') : "";

    private static DateTimeOffset LastModifiedOf(Response response) =>
        response.Headers.TryGetValue("Last-Modified", out var value)
        && DateTimeOffset.TryParseExact(value, "R", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : DateTimeOffset.MinValue;

    // The first line of the service's <Message>: what went wrong, without request ids or signing details.
    private static string? ServiceMessage(Response response)
    {
        try
        {
            var stream = response.ContentStream;
            if (stream is null)
            {
                return null;
            }

            if (stream.CanSeek)
            {
                stream.Position = 0;
            }

            var document = XDocument.Load(stream);
            var message = document.Root?.Element("Message")?.Value;
            return message?.Split('\n')[0].Trim();
        }
        catch (Exception e) when (e is XmlException or IOException or NotSupportedException or InvalidOperationException or ObjectDisposedException)
        {
            return null;
        }
    }

    private readonly record struct BlockData(ReadOnlyMemory<byte> Memory, byte[]? Rented)
    {
        public void Return()
        {
            if (Rented is not null)
            {
                ArrayPool<byte>.Shared.Return(Rented);
            }
        }
    }
}

/// <summary>Parses one page of List Blobs (flat): blobs in name order and the continuation marker.</summary>
internal static class BlobListing
{
    public sealed record Item(string Name, long Size, DateTimeOffset LastModified, string ETag);

    public static (List<Item> Items, string? NextMarker) Parse(Stream xml)
    {
        var document = XDocument.Load(xml);
        var root = document.Root ?? throw new XmlException("List Blobs answered with an empty document.");
        var items = new List<Item>();
        foreach (var blob in root.Element("Blobs")?.Elements("Blob") ?? [])
        {
            var nameElement = blob.Element("Name");
            if (nameElement is null)
            {
                continue;
            }

            // Names with characters XML cannot carry come percent-encoded.
            var name = (string?)nameElement.Attribute("Encoded") == "true" ? Uri.UnescapeDataString(nameElement.Value) : nameElement.Value;
            var properties = blob.Element("Properties");
            if (string.Equals((string?)properties?.Element("ResourceType"), "directory", StringComparison.OrdinalIgnoreCase))
            {
                // ADLS Gen2 lists its directories as blobs: they are prefixes, not objects.
                continue;
            }

            var size = long.TryParse((string?)properties?.Element("Content-Length"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var length) ? length : 0;
            var modified = DateTimeOffset.TryParseExact((string?)properties?.Element("Last-Modified"), "R", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : DateTimeOffset.MinValue;
            var etag = ((string?)properties?.Element("Etag") ?? "").Trim('"');
            items.Add(new Item(name, size, modified, etag));
        }

        var next = (string?)root.Element("NextMarker");
        return (items, string.IsNullOrEmpty(next) ? null : next);
    }
}
