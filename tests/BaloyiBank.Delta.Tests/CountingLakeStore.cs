using System.Collections.Concurrent;
using BaloyiBank.Lake;

namespace BaloyiBank.Delta.Tests;

/// <summary>A decorator over a real lake store that counts the reads it passes through, by path.</summary>
public sealed class CountingLakeStore(ILakeStore inner) : ILakeStore
{
    private readonly ConcurrentQueue<string> reads = new();

    /// <summary>Every path read with Get or GetFile, in order.</summary>
    public IReadOnlyCollection<string> Reads => reads;

    public int CommitReads => reads.Count(p => p.EndsWith(".json", StringComparison.Ordinal) && p.Contains("/_delta_log/", StringComparison.Ordinal));

    public void Reset() => reads.Clear();

    public string Location => inner.Location;

    public Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutAsync(path, content, cancellationToken);

    public Task<PutOutcome> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutIfAbsentAsync(path, content, cancellationToken);

    public Task<bool> PutIfMatchAsync(string path, ReadOnlyMemory<byte> content, string etag, CancellationToken cancellationToken = default) => inner.PutIfMatchAsync(path, content, etag, cancellationToken);

    public Task PutFileAsync(string path, string localFile, CancellationToken cancellationToken = default) => inner.PutFileAsync(path, localFile, cancellationToken);

    public Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        reads.Enqueue(path);
        return inner.GetAsync(path, cancellationToken);
    }

    public Task<bool> GetFileAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        reads.Enqueue(path);
        return inner.GetFileAsync(path, localFile, cancellationToken);
    }

    public Task<LakeObjectInfo?> GetInfoAsync(string path, CancellationToken cancellationToken = default) => inner.GetInfoAsync(path, cancellationToken);

    public IAsyncEnumerable<LakeObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);
}

/// <summary>A decorator over a real lake store whose uploads of checkpoint files fail, as a full disk or a dropped connection would.</summary>
public sealed class CheckpointRejectingLakeStore(ILakeStore inner) : ILakeStore
{
    public string Location => inner.Location;

    public Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutAsync(path, content, cancellationToken);

    public Task<PutOutcome> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutIfAbsentAsync(path, content, cancellationToken);

    public Task<bool> PutIfMatchAsync(string path, ReadOnlyMemory<byte> content, string etag, CancellationToken cancellationToken = default) => inner.PutIfMatchAsync(path, content, etag, cancellationToken);

    public Task PutFileAsync(string path, string localFile, CancellationToken cancellationToken = default) =>
        path.EndsWith(".checkpoint.parquet", StringComparison.Ordinal)
            ? throw new IOException($"Simulated upload failure for {path}")
            : inner.PutFileAsync(path, localFile, cancellationToken);

    public Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default) => inner.GetAsync(path, cancellationToken);

    public Task<bool> GetFileAsync(string path, string localFile, CancellationToken cancellationToken = default) => inner.GetFileAsync(path, localFile, cancellationToken);

    public Task<LakeObjectInfo?> GetInfoAsync(string path, CancellationToken cancellationToken = default) => inner.GetInfoAsync(path, cancellationToken);

    public IAsyncEnumerable<LakeObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);
}
