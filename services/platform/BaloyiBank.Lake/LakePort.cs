namespace BaloyiBank.Lake;

// The lake port: a flat namespace of immutable objects addressed by '/'-separated paths,
// as Azure Blob Storage / ADLS Gen2 (through the Blob API), Azurite and a local folder all
// offer. Delta tables are built on exactly these operations; the one that makes commits
// safe is PutIfAbsent (Blob: Put Blob with If-None-Match: *); PutIfMatch (If-Match: etag) is the
// compare-and-swap that small mutable records (partition ownership) are kept with.

/// <summary>What a put-if-absent did.</summary>
public enum PutOutcome
{
    /// <summary>The object did not exist and now holds the given bytes.</summary>
    Created,
    /// <summary>An object of that name already existed; nothing was written.</summary>
    AlreadyExists,
}

/// <summary>An object's metadata, as listings and property reads return it.</summary>
/// <param name="Path">Path relative to the store's root, '/'-separated, no leading '/'.</param>
/// <param name="ETag">Opaque version tag; changes on every write.</param>
public sealed record LakeObjectInfo(string Path, long Size, DateTimeOffset LastModified, string ETag);

/// <summary>
/// An object store holding the lake's layers (bronze, silver, gold, quarantine). Paths are
/// relative, '/'-separated, without "." or ".." segments. Thread-safe.
/// </summary>
public interface ILakeStore
{
    /// <summary>A description for messages and logs: the folder or the account/container (never a secret).</summary>
    string Location { get; }

    /// <summary>Writes (or replaces) an object. Readers see either the old or the new bytes, never a mix.</summary>
    Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes an object only if none exists at that path, atomically: of two writers racing for
    /// one name exactly one gets <see cref="PutOutcome.Created"/>, the other <see cref="PutOutcome.AlreadyExists"/>.
    /// </summary>
    Task<PutOutcome> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces an object only while it is still the version <paramref name="etag"/> names (an ETag from
    /// <see cref="GetInfoAsync"/> or <see cref="ListAsync"/>), atomically: of two writers replacing the same version
    /// exactly one gets true. False when the object changed since or does not exist; nothing was written then.
    /// </summary>
    Task<bool> PutIfMatchAsync(string path, ReadOnlyMemory<byte> content, string etag, CancellationToken cancellationToken = default);

    /// <summary>Uploads a local file (large data files) with the semantics of <see cref="PutAsync"/>.</summary>
    Task PutFileAsync(string path, string localFile, CancellationToken cancellationToken = default);

    /// <summary>
    /// A local folder where a caller may prepare files for <see cref="TakeFileAsync"/> so that the store can take
    /// them without copying (the folder store's own file system, hidden from listings); null when the store is
    /// remote and any temporary folder will do. The caller creates and deletes its files there.
    /// </summary>
    string? LocalStagingFolder => null;

    /// <summary>
    /// Like <see cref="PutFileAsync"/>, except that the store may take the file itself (a rename instead of a
    /// copy when it lives in <see cref="LocalStagingFolder"/>): afterwards the local file is gone.
    /// </summary>
    async Task TakeFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        await PutFileAsync(path, localFile, cancellationToken).ConfigureAwait(false);
        File.Delete(localFile);
    }

    /// <summary>The object's bytes, or null when it does not exist.</summary>
    Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Downloads an object to a local file; false when it does not exist.</summary>
    Task<bool> GetFileAsync(string path, string localFile, CancellationToken cancellationToken = default);

    /// <summary>The object's metadata, or null when it does not exist.</summary>
    Task<LakeObjectInfo?> GetInfoAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Every object whose path starts with <paramref name="prefix"/>, in ordinal path order (pages fetched lazily).</summary>
    IAsyncEnumerable<LakeObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default);
}
