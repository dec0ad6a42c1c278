using BaloyiBank.Lake;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Delta;

public sealed partial class DeltaTable
{
    private const int ParallelDownloads = 4;

    private static readonly Action<ILogger, string, string, Exception?> LogOrphanDeleted = LoggerMessage.Define<string, string>(
        LogLevel.Information, new EventId(20, "DeltaOrphanDeleted"), "Table {Table}: deleted orphaned data file {Path} (never committed)");

    /// <summary>
    /// Local copies of <paramref name="snapshot"/>'s active files: resolved in place on a <see cref="FolderLakeStore"/>
    /// or when <see cref="DeltaTableOptions.LocalFileResolver"/> can, otherwise downloaded into
    /// <paramref name="localFolder"/> (kept as a cache: a file already there with the logged size is reused).
    /// </summary>
    public async Task<DeltaReadSet> GetReadSetAsync(DeltaSnapshot snapshot, string? localFolder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        localFolder ??= System.IO.Path.Combine(TempRoot, "cache", snapshot.Metadata.Id);
        return await GetReadSetAsync(snapshot.Schema, snapshot.Version, [.. snapshot.Files.Values], localFolder, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Local copies of chosen data files of this table (e.g. the adds of <see cref="ReadChangesAsync"/>), resolved or
    /// downloaded as for a snapshot. <paramref name="version"/> only labels the read set.
    /// </summary>
    public async Task<DeltaReadSet> GetReadSetAsync(TableSchema schema, long version, IReadOnlyCollection<AddFile> dataFiles, string? localFolder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(dataFiles);
        localFolder ??= System.IO.Path.Combine(TempRoot, "cache", Path.Replace('/', '_'));
        var adds = dataFiles.OrderBy(a => a.Path, StringComparer.Ordinal).ToArray();
        var files = new DeltaReadFile[adds.Length];
        await Parallel.ForAsync(0, adds.Length, new ParallelOptions { MaxDegreeOfParallelism = ParallelDownloads, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var add = adds[i];
            var lakePath = LakePathOf(add.DataPath);
            if (ResolveLocal(lakePath) is { } resolved && File.Exists(resolved))
            {
                files[i] = new(add, resolved);
                return;
            }

            var local = System.IO.Path.GetFullPath(System.IO.Path.Combine(localFolder, add.DataPath));
            if (!local.StartsWith(System.IO.Path.GetFullPath(localFolder), StringComparison.Ordinal))
            {
                throw new DeltaProtocolException($"Table {Location}: data file path '{add.Path}' leaves the table folder.");
            }

            if (!File.Exists(local) || new FileInfo(local).Length != add.Size)
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(local)!);
                var partial = $"{local}.{Guid.NewGuid():N}.download";
                if (!await Lake.GetFileAsync(lakePath, partial, ct).ConfigureAwait(false))
                {
                    throw new DeltaLogCorruptException($"Table {Location}: version {version} names data file {lakePath}, which does not exist.");
                }

                File.Move(partial, local, overwrite: true);
            }

            files[i] = new(add, local);
        }).ConfigureAwait(false);
        return new(schema, version, files);
    }

    // A folder lake's objects are files already: read them in place rather than copying.
    private string? ResolveLocal(string lakePath) =>
        options.LocalFileResolver is { } resolver ? resolver(lakePath)
        : Lake is FolderLakeStore folder ? System.IO.Path.Combine(folder.Location, lakePath)
        : null;

    /// <summary>
    /// Data files under the table that no commit ever added (neither active nor a tombstone) and last written
    /// before <paramref name="olderThan"/>: leftovers of writes whose commit never landed. Hidden folders
    /// (<c>_delta_log</c>, anything starting with '_' or '.') are never candidates. No table, no orphans.
    /// </summary>
    public async Task<IReadOnlyList<LakeObjectInfo>> FindOrphansAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default)
    {
        // List first, then read the log: a file committed in between is then known to the snapshot.
        List<LakeObjectInfo> candidates = [];
        var prefix = Path + "/";
        await foreach (var item in Lake.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            var relative = item.Path[prefix.Length..];
            if (item.LastModified < olderThan && !relative.Split('/').Any(s => s.StartsWith('_') || s.StartsWith('.')))
            {
                candidates.Add(item);
            }
        }

        if (candidates.Count == 0 || await TryLoadAsync(cancellationToken).ConfigureAwait(false) is not { } snapshot)
        {
            return [];
        }

        var known = snapshot.Files.Values.Select(a => a.DataPath)
            .Concat(snapshot.Tombstones.Values.Select(r => r.DataPath))
            .ToHashSet(StringComparer.Ordinal);
        return [.. candidates.Where(c => !known.Contains(c.Path[prefix.Length..]))];
    }

    /// <summary>
    /// Deletes orphans last written more than <paramref name="gracePeriod"/> ago and returns their paths. The grace
    /// period must exceed the longest time a writer takes from uploading a file to committing it (use hours, not seconds,
    /// in production), or an in-flight write could lose its file.
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteOrphansAsync(TimeSpan gracePeriod, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gracePeriod, TimeSpan.Zero);
        var orphans = await FindOrphansAsync(options.TimeProvider.GetUtcNow() - gracePeriod, cancellationToken).ConfigureAwait(false);
        List<string> deleted = [];
        foreach (var orphan in orphans)
        {
            if (await Lake.DeleteAsync(orphan.Path, cancellationToken).ConfigureAwait(false))
            {
                LogOrphanDeleted(logger, Location, orphan.Path, null);
                deleted.Add(orphan.Path);
            }
        }

        return deleted;
    }
}
