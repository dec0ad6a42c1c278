using BaloyiBank.Lake;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>
/// A simulated crash (the process cannot be killed mid-method in-process): a real lake whose N-th Delta commit
/// write under a path fails as if the process died before it, after the commit's data files were uploaded.
/// </summary>
internal sealed class CrashingLakeStore(ILakeStore inner, int failOnCommitNumber, string pathContains) : ILakeStore
{
    private int _commits;

    public string Location => inner.Location;

    public Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutAsync(path, content, cancellationToken);

    public Task<PutOutcome> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        if (path.Contains(pathContains, StringComparison.Ordinal) && path.Contains("/_delta_log/", StringComparison.Ordinal) && path.EndsWith(".json", StringComparison.Ordinal) && !path.EndsWith("/00000000000000000000.json", StringComparison.Ordinal)
            && Interlocked.Increment(ref _commits) >= failOnCommitNumber)
        {
            throw new IOException($"Simulated crash before writing {path}.");
        }

        return inner.PutIfAbsentAsync(path, content, cancellationToken);
    }

    public Task<bool> PutIfMatchAsync(string path, ReadOnlyMemory<byte> content, string etag, CancellationToken cancellationToken = default) => inner.PutIfMatchAsync(path, content, etag, cancellationToken);

    public Task PutFileAsync(string path, string localFile, CancellationToken cancellationToken = default) => inner.PutFileAsync(path, localFile, cancellationToken);

    public Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default) => inner.GetAsync(path, cancellationToken);

    public Task<bool> GetFileAsync(string path, string localFile, CancellationToken cancellationToken = default) => inner.GetFileAsync(path, localFile, cancellationToken);

    public Task<LakeObjectInfo?> GetInfoAsync(string path, CancellationToken cancellationToken = default) => inner.GetInfoAsync(path, cancellationToken);

    public IAsyncEnumerable<LakeObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);
}
