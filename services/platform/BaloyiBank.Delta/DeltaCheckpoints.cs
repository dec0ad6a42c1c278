using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Parquet;
using Parquet.Serialization;

namespace BaloyiBank.Delta;

/// <summary>
/// Classic single-file V1 checkpoints (PROTOCOL.md "Checkpoints", "Checkpoint Schema"): one row per action,
/// each action a struct column (txn, add, remove, metaData, protocol), maps as MAP&lt;string,string&gt; and
/// stats as a JSON string. The actions are rendered by the same JSON codec as commits, bound to
/// <see cref="CheckpointRow"/> and written by Parquet.Net's serializer as those nested columns; reading goes the
/// other way, so commits and checkpoints share one decoder.
/// </summary>
internal static class DeltaCheckpoints
{
    private static readonly ParquetOptions WriteOptions = new()
    {
        CompressionMethod = CompressionMethod.Zstd,
        CompressionLevel = System.IO.Compression.CompressionLevel.Optimal,
    };

    private static readonly Action<ILogger, string, long, int, long, Exception?> LogWritten = LoggerMessage.Define<string, long, int, long>(
        LogLevel.Debug, new EventId(10, "DeltaCheckpointWritten"), "Table {Table}: checkpoint {Version} written ({Rows} actions) in {Milliseconds} ms");

    public static async Task WriteAsync(DeltaTable table, DeltaSnapshot snapshot, ILogger logger, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var expired = table.Options.TombstoneRetention is { } retention
            ? (table.Options.TimeProvider.GetUtcNow() - retention).ToUnixTimeMilliseconds()
            : long.MinValue;
        var state = new DeltaLogEntry
        {
            Protocol = snapshot.Protocol,
            Metadata = snapshot.Metadata,
            Transactions = [.. snapshot.Transactions.Values.OrderBy(t => t.AppId, StringComparer.Ordinal)],
            // Checkpoint tombstones carry no stats or tags (PROTOCOL.md): they only serve VACUUM, so expired ones are dropped.
            Removes = [.. snapshot.Tombstones.Values.Where(r => (r.DeletionTimestamp ?? long.MaxValue) >= expired).OrderBy(r => r.Path, StringComparer.Ordinal)],
            Adds = [.. snapshot.Files.Values.OrderBy(a => a.Path, StringComparer.Ordinal)],
        };
        var rows = 2 + state.Transactions.Count + state.Removes.Count + state.Adds.Count;

        var folder = ScratchFolder(table);
        try
        {
            var parquet = Path.Combine(folder, DeltaPaths.CheckpointFileName(snapshot.Version));
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            DeltaLogCodec.WriteState(buffer, state);
            List<CheckpointRow> actions = new(rows);
            foreach (var line in new StreamLines(buffer.WrittenMemory))
            {
                actions.Add(JsonSerializer.Deserialize(line.Span, DeltaJsonContext.Default.CheckpointRow)!);
            }

            await using (var stream = File.Create(parquet))
            {
                await ParquetSerializer.SerializeAsync(actions, stream, WriteOptions, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            var size = new FileInfo(parquet).Length;
            await table.Lake.PutFileAsync(table.LogPath(DeltaPaths.CheckpointFileName(snapshot.Version)), parquet, cancellationToken).ConfigureAwait(false);

            // Never move _last_checkpoint backwards when a faster writer already checkpointed a newer version.
            if (await table.ReadLastCheckpointVersionAsync(cancellationToken).ConfigureAwait(false) is { } current && current >= snapshot.Version)
            {
                return;
            }

            var pointer = $$"""{"version":{{snapshot.Version}},"size":{{rows}},"sizeInBytes":{{size}},"numOfAddFiles":{{state.Adds.Count}}}""";
            await table.Lake.PutAsync(table.LogPath(DeltaPaths.LastCheckpointFile), Encoding.UTF8.GetBytes(pointer), cancellationToken).ConfigureAwait(false);
            LogWritten(logger, table.Location, snapshot.Version, rows, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
        finally
        {
            TryDelete(folder);
        }
    }

    /// <summary>The reconciled state stored in checkpoint <paramref name="version"/>.</summary>
    public static async Task<DeltaLogEntry> ReadAsync(DeltaTable table, long version, CancellationToken cancellationToken)
    {
        var path = table.LogPath(DeltaPaths.CheckpointFileName(version));
        var folder = ScratchFolder(table);
        try
        {
            var local = Path.Combine(folder, DeltaPaths.CheckpointFileName(version));
            if (!await table.Lake.GetFileAsync(path, local, cancellationToken).ConfigureAwait(false))
            {
                throw new DeltaLogCorruptException($"Table {table.Location}: checkpoint {path} does not exist.") { LogFile = path };
            }

            // Each row rendered as one JSON object goes through the same parser as JSON commits; columns a
            // foreign checkpoint adds (stats_parsed, partitionValues_parsed, cdc …) are not read.
            IList<CheckpointRow> actions;
            await using (var stream = File.OpenRead(local))
            {
                actions = (await ParquetSerializer.DeserializeAsync<CheckpointRow>(stream, cancellationToken: cancellationToken).ConfigureAwait(false)).Data;
            }

            return DeltaLogCodec.Decode(actions.Select(a => JsonSerializer.SerializeToElement(a, DeltaJsonContext.Default.CheckpointRow)), path);
        }
        finally
        {
            TryDelete(folder);
        }
    }

    /// <summary>The newline-separated lines of a buffer of JSON lines.</summary>
    private readonly struct StreamLines(ReadOnlyMemory<byte> content)
    {
        public IEnumerator<ReadOnlyMemory<byte>> GetEnumerator()
        {
            var rest = content;
            while (!rest.IsEmpty)
            {
                var end = rest.Span.IndexOf((byte)'\n');
                var line = end < 0 ? rest : rest[..end];
                rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
                if (!line.IsEmpty)
                {
                    yield return line;
                }
            }
        }
    }

    internal static string Literal(string text) => $"'{text.Replace("'", "''", StringComparison.Ordinal)}'";

    /// <summary>A new private scratch folder; with <paramref name="preferLakeStaging"/>, inside the lake's local staging folder when it has one (files there can be taken by rename).</summary>
    internal static string ScratchFolder(DeltaTable table, bool preferLakeStaging = false)
    {
        var root = preferLakeStaging && table.Lake.LocalStagingFolder is { } staging ? staging : table.TempRoot;
        var folder = Path.Combine(root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    internal static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Scratch space only; the OS temp cleaner gets it later.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
