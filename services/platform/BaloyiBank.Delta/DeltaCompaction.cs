using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace BaloyiBank.Delta;

/// <summary>When a partition's small files are worth rewriting, and into how big a file.</summary>
/// <param name="MinFiles">A partition is compacted once it holds at least this many small files.</param>
/// <param name="TargetFileBytes">
/// Files of at least half this size are left alone (they are not small), and one rewrite takes small files (first fit, in
/// path order) whose sizes add up to at most this: so a compacted file is rewritten again only while it is small, any two
/// small files fit in one rewrite, and one rewrite's rows fit in memory.
/// </param>
public sealed record DeltaCompactionOptions(int MinFiles = 8, long TargetFileBytes = 64L * 1024 * 1024)
{
    /// <summary>
    /// The longest time from the start of writing the compacted file to its commit; an older write is not committed
    /// (it stays an orphan for the sweep). Keep it below the orphan grace period and the vacuum retention, which
    /// delete unreferenced files older than that: then no sweep can delete a file a compaction is about to commit.
    /// </summary>
    public TimeSpan MaxWriteToCommit { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How the compacted files are encoded (a log's schema carries no layout): the table definition's, e.g. bronze's archive layout.</summary>
    public ParquetLayout? Layout { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MinFiles, 2, nameof(MinFiles));
        ArgumentOutOfRangeException.ThrowIfLessThan(TargetFileBytes, 2, nameof(TargetFileBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxWriteToCommit, TimeSpan.Zero, nameof(MaxWriteToCommit));
    }
}

/// <summary>The small files of one partition that one compaction rewrites into one file, in the order their rows are kept.</summary>
/// <param name="PartitionValues">The partition's values (empty for an unpartitioned table).</param>
/// <param name="Files">The files, ordered by path: the order a reader of the snapshot reads them in.</param>
public sealed record DeltaCompactionBin(IReadOnlyDictionary<string, string?> PartitionValues, IReadOnlyList<AddFile> Files)
{
    /// <summary>
    /// The compacted file's stem: <c>compact-</c> and 16 hex digits of SHA-256 over the input paths, so a compaction
    /// rerun after a crash writes the same name (overwriting its orphan) and different inputs never share a name.
    /// </summary>
    public string Stem
    {
        get
        {
            var paths = string.Join('\n', Files.Select(f => f.Path));
            return "compact-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(paths)))[..16];
        }
    }

    public long Bytes => Files.Sum(f => f.Size);
}

/// <summary>How one compaction ended.</summary>
public enum DeltaCompactionStatus
{
    /// <summary>The bin's files were replaced by one file (<c>dataChange=false</c>).</summary>
    Committed,

    /// <summary>A concurrent commit removed one of the bin's files (or changed the metadata): nothing was committed.</summary>
    Conflicted,

    /// <summary>The write took longer than <see cref="DeltaCompactionOptions.MaxWriteToCommit"/>: nothing was committed.</summary>
    TooSlow,
}

/// <summary>The outcome of compacting one bin; <paramref name="Snapshot"/> is the table as last seen (commit again from it).</summary>
public sealed record DeltaCompactionResult(DeltaCompactionStatus Status, DeltaCompactionBin Bin, AddFile? Compacted, DeltaSnapshot Snapshot, string? Reason = null);

/// <summary>A compacted file written to the lake and not yet committed: what a crash between the two leaves behind (an orphan).</summary>
public sealed record DeltaCompactionWrite(DeltaCompactionBin Bin, AddFile Compacted, long Rows, DateTimeOffset StartedAt);

/// <summary>Which files a compaction takes: a pure function of a snapshot's active files.</summary>
public static class DeltaCompaction
{
    /// <summary>
    /// At most one bin per partition, for a partition holding at least <see cref="DeltaCompactionOptions.MinFiles"/> small
    /// files (smaller than half <see cref="DeltaCompactionOptions.TargetFileBytes"/>): those of them, in path order, that fit
    /// (first fit) within the target; at least two, since any two small files do. Bins are ordered by their partition's key.
    /// </summary>
    public static IReadOnlyList<DeltaCompactionBin> Plan(IEnumerable<AddFile> files, IReadOnlyList<string> partitionColumns, DeltaCompactionOptions options)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(partitionColumns);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        List<DeltaCompactionBin> bins = [];
        var byPartition = files
            .Where(f => IsSmall(f, options))
            .GroupBy(f => PartitionKey(partitionColumns, f.PartitionValues), StringComparer.Ordinal)
            .Where(g => g.Count() >= options.MinFiles)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var partition in byPartition)
        {
            List<AddFile> bin = [];
            long bytes = 0;
            foreach (var file in partition.OrderBy(f => f.Path, StringComparer.Ordinal))
            {
                if (bytes + file.Size <= options.TargetFileBytes)
                {
                    bin.Add(file);
                    bytes += file.Size;
                }
            }

            bins.Add(new DeltaCompactionBin(bin[0].PartitionValues, bin));
        }

        return bins;
    }

    /// <summary>Whether a file is small enough to be compacted: under half the target, so any two fit in one rewrite.</summary>
    public static bool IsSmall(AddFile file, DeltaCompactionOptions options)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        return file.Size < options.TargetFileBytes / 2;
    }

    /// <summary>A partition's identity as one string: its values in partition-column order (null distinct from empty).</summary>
    internal static string PartitionKey(IReadOnlyList<string> partitionColumns, IReadOnlyDictionary<string, string?> values)
    {
        var key = new StringBuilder();
        foreach (var column in partitionColumns)
        {
            var value = values.TryGetValue(column, out var v) ? v : null;
            key.Append(value is null ? "\u0001" : "\u0002" + value).Append('\u0000');
        }

        return key.ToString();
    }

    internal static string Describe(DeltaCompactionBin bin) =>
        bin.PartitionValues.Count == 0
            ? "the table"
            : string.Join(", ", bin.PartitionValues.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value ?? "null"}")));
}
