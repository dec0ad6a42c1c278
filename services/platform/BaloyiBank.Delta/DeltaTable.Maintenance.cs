using System.Globalization;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Delta;

/// <summary>The files one <see cref="DeltaTable.VacuumAsync"/> deleted, and the version whose snapshot it kept.</summary>
public sealed record DeltaVacuumResult(long Version, IReadOnlyList<string> Deleted);

public sealed partial class DeltaTable
{
    private static readonly Action<ILogger, string, string, int, long, Exception?> LogCompacted = LoggerMessage.Define<string, string, int, long>(
        LogLevel.Debug, new EventId(21, "DeltaCompacted"), "Table {Table}: compacted {Partition}: {Files} files into one ({Rows} rows)");

    private static readonly Action<ILogger, string, string, string, Exception?> LogCompactionGaveUp = LoggerMessage.Define<string, string, string>(
        LogLevel.Information, new EventId(22, "DeltaCompactionGaveUp"), "Table {Table}: compaction of {Partition} not committed ({Reason}); its file is left for the vacuum, the partition is tried again next time");

    private static readonly Action<ILogger, string, string, Exception?> LogVacuumed = LoggerMessage.Define<string, string>(
        LogLevel.Debug, new EventId(23, "DeltaVacuumed"), "Table {Table}: vacuum deleted {Path}");

    /// <summary>
    /// Compacts every partition of the latest snapshot that <see cref="DeltaCompaction.Plan"/> picks, one commit per
    /// partition (<see cref="CompactAsync(DeltaSnapshot, DeltaCompactionBin, DeltaCompactionOptions, CancellationToken)"/>).
    /// Returns one result per bin tried.
    /// </summary>
    public async Task<IReadOnlyList<DeltaCompactionResult>> CompactAsync(DeltaCompactionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var snapshot = await LoadAsync(cancellationToken).ConfigureAwait(false);
        List<DeltaCompactionResult> results = [];
        foreach (var bin in DeltaCompaction.Plan(snapshot.Files.Values, snapshot.Metadata.PartitionColumns, options))
        {
            var result = await CompactAsync(snapshot, bin, options, cancellationToken).ConfigureAwait(false);
            snapshot = result.Snapshot;
            results.Add(result);
        }

        return results;
    }

    /// <summary>Writes <paramref name="bin"/>'s rows as one file (<see cref="WriteCompactionAsync"/>) and commits it in their place (<see cref="CommitCompactionAsync"/>).</summary>
    public async Task<DeltaCompactionResult> CompactAsync(DeltaSnapshot snapshot, DeltaCompactionBin bin, DeltaCompactionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var write = await WriteCompactionAsync(snapshot, bin, options.Layout, cancellationToken).ConfigureAwait(false);
        return await CommitCompactionAsync(snapshot, write, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads the rows of <paramref name="bin"/>'s files in order (files by path, rows in file order) and writes them
    /// as one file of the same partition, row groups of the table's layout, with fresh statistics. Nothing is
    /// committed: until <see cref="CommitCompactionAsync"/> the file is an orphan no reader sees.
    /// </summary>
    /// <exception cref="DeltaLogCorruptException">The rows read do not add up to the files' logged record counts.</exception>
    public async Task<DeltaCompactionWrite> WriteCompactionAsync(DeltaSnapshot snapshot, DeltaCompactionBin bin, ParquetLayout? layout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(bin);
        var started = options.TimeProvider.GetUtcNow();
        var schema = snapshot.Schema with { Layout = layout ?? snapshot.Schema.Layout };
        var folder = DeltaCheckpoints.ScratchFolder(this);
        try
        {
            var readSet = await GetReadSetAsync(schema, snapshot.Version, bin.Files, folder, cancellationToken).ConfigureAwait(false);
            var rows = new ColumnBuffer(schema);
            var names = schema.Columns.Select(c => c.Name).ToArray();
            await foreach (var chunk in ColumnChunk.ReadAsync(readSet, names, cancellationToken).ConfigureAwait(false))
            {
                var appenders = names.Select(n => Appender(chunk.Column(n) is string?[] ? chunk.Chars(n) : chunk.Column(n))).ToArray();
                for (var row = 0; row < chunk.RowCount; row++)
                {
                    foreach (var append in appenders)
                    {
                        append(rows, row);
                    }

                    rows.EndRow();
                }
            }

            rows.Seal();
            var logged = bin.Files.All(f => f.Statistics is not null) ? bin.Files.Sum(f => f.Statistics!.NumRecords) : (long?)null;
            if (logged is { } expected && expected != rows.RowCount)
            {
                throw new DeltaLogCorruptException(
                    $"Table {Location}: the {bin.Files.Count} files of {DeltaCompaction.Describe(bin)} hold {rows.RowCount} rows, their statistics say {expected}; not compacting them.");
            }

            var adds = await new DeltaFileWriter(this, schema).WriteAsync([rows], bin.Stem, cancellationToken).ConfigureAwait(false);
            if (adds.Count != 1)
            {
                throw new InvalidOperationException($"Table {Location}: compacting {DeltaCompaction.Describe(bin)} wrote {adds.Count} files, expected one.");
            }

            return new(bin, adds[0] with { DataChange = false }, rows.RowCount, started);
        }
        finally
        {
            DeltaCheckpoints.TryDelete(folder);
        }
    }

    /// <summary>
    /// Commits <paramref name="write"/>: the bin's files removed and the compacted file added, both <c>dataChange=false</c>
    /// (the rows did not change: change readers skip the commit), no txn (a writer's progress is untouched), operation
    /// OPTIMIZE. Appends committed meanwhile do not conflict (the commit is retried after them); a commit that removed one
    /// of the bin's files does, and then nothing is committed (<see cref="DeltaCompactionStatus.Conflicted"/>). The
    /// compacted file is never deleted here: a concurrent compaction of the same bin may have committed the same name.
    /// </summary>
    public async Task<DeltaCompactionResult> CommitCompactionAsync(DeltaSnapshot snapshot, DeltaCompactionWrite write, DeltaCompactionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var bin = write.Bin;
        var took = this.options.TimeProvider.GetUtcNow() - write.StartedAt;
        if (took > options.MaxWriteToCommit)
        {
            var reason = string.Create(CultureInfo.InvariantCulture, $"writing took {took}, longer than {options.MaxWriteToCommit}: an orphan sweep may already have deleted the file");
            LogCompactionGaveUp(logger, Location, DeltaCompaction.Describe(bin), reason, null);
            return new(DeltaCompactionStatus.TooSlow, bin, null, snapshot, reason);
        }

        var now = Now();
        try
        {
            var result = await CommitAsync(snapshot, new DeltaCommit
            {
                Adds = [write.Compacted],
                Removes = [.. bin.Files.Select(f => RemoveFile.For(f, now, dataChange: false))],
                Operation = "OPTIMIZE",
                OperationParameters = new Dictionary<string, string>
                {
                    ["predicate"] = DeltaCompaction.Describe(bin),
                    ["files"] = bin.Files.Count.ToString(CultureInfo.InvariantCulture),
                    ["rows"] = write.Rows.ToString(CultureInfo.InvariantCulture),
                },
            }, cancellationToken).ConfigureAwait(false);
            LogCompacted(logger, Location, DeltaCompaction.Describe(bin), bin.Files.Count, write.Rows, null);
            return new(DeltaCompactionStatus.Committed, bin, write.Compacted, result.Snapshot);
        }
        catch (DeltaConcurrentModificationException e)
        {
            LogCompactionGaveUp(logger, Location, DeltaCompaction.Describe(bin), e.Message, null);
            return new(DeltaCompactionStatus.Conflicted, bin, null, await UpdateAsync(snapshot, cancellationToken).ConfigureAwait(false), e.Message);
        }
    }

    /// <summary>
    /// Deletes the data files under the table that the latest snapshot does not need and that are older than
    /// <paramref name="retention"/>: files removed (tombstoned) more than <paramref name="retention"/> ago, tombstones a
    /// checkpoint already expired, and files no commit ever named (orphans) last written before then. Never a file of the
    /// current snapshot, nor one removed within the retention (a reader of a version that recent still finds its files;
    /// time travel further back fails on the deleted files). Hidden folders (<c>_delta_log</c>, '_' or '.') are never touched.
    /// </summary>
    public async Task<DeltaVacuumResult> VacuumAsync(TimeSpan retention, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retention, TimeSpan.Zero);
        var now = options.TimeProvider.GetUtcNow();
        var horizon = now - retention;

        // List first, then read the log: a file committed in between is then in the snapshot (as for orphans).
        List<string> candidates = [];
        var prefix = Path + "/";
        await foreach (var item in Lake.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            var relative = item.Path[prefix.Length..];
            if (item.LastModified < horizon && !relative.Split('/').Any(s => s.StartsWith('_') || s.StartsWith('.')))
            {
                candidates.Add(relative);
            }
        }

        if (await TryLoadAsync(cancellationToken).ConfigureAwait(false) is not { } snapshot)
        {
            return new(-1, []);
        }

        if (candidates.Count == 0)
        {
            return new(snapshot.Version, []);
        }

        var horizonMs = horizon.ToUnixTimeMilliseconds();
        var keep = snapshot.Files.Values.Select(a => a.DataPath)
            .Concat(snapshot.Tombstones.Values.Where(r => (r.DeletionTimestamp ?? long.MaxValue) >= horizonMs).Select(r => r.DataPath))
            .ToHashSet(StringComparer.Ordinal);
        List<string> deleted = [];
        foreach (var relative in candidates.Where(c => !keep.Contains(c)))
        {
            if (await Lake.DeleteAsync(prefix + relative, cancellationToken).ConfigureAwait(false))
            {
                LogVacuumed(logger, Location, prefix + relative, null);
                deleted.Add(prefix + relative);
            }
        }

        return new(snapshot.Version, deleted);
    }

    /// <summary>Appends row <c>i</c> of a column as read by <see cref="ColumnChunk"/> to a buffer.</summary>
    private static Action<ColumnBuffer, int> Appender(Array values) => values switch
    {
        ReadOnlyMemory<char>?[] chars => (b, i) => _ = chars[i] is { } v ? b.Append(v.Span) : b.AppendNull(),
        ReadOnlyMemory<byte>?[] bytes => (b, i) => _ = bytes[i] is { } v ? b.Append(v.Span) : b.AppendNull(),
        long[] longs => (b, i) => b.Append(longs[i]),
        long?[] longs => (b, i) => b.Append(longs[i]),
        int[] ints => (b, i) => b.Append(ints[i]),
        int?[] ints => (b, i) => b.Append(ints[i]),
        bool[] bools => (b, i) => b.Append(bools[i]),
        bool?[] bools => (b, i) => b.Append(bools[i]),
        double[] doubles => (b, i) => b.Append(doubles[i]),
        double?[] doubles => (b, i) => b.Append(doubles[i]),
        decimal[] decimals => (b, i) => b.Append(decimals[i]),
        decimal?[] decimals => (b, i) => b.Append(decimals[i]),
        DateTime[] instants => (b, i) => b.Append(new DateTimeOffset(DateTime.SpecifyKind(instants[i], DateTimeKind.Utc))),
        DateTime?[] instants => (b, i) => _ = instants[i] is { } v ? b.Append(new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc))) : b.AppendNull(),
        DateOnly[] dates => (b, i) => b.Append(dates[i]),
        DateOnly?[] dates => (b, i) => b.Append(dates[i]),
        _ => throw new NotSupportedException($"A column read as {values.GetType().Name} cannot be compacted."),
    };
}
