using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using BaloyiBank.DuckDb;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Delta;

/// <summary>
/// Classic single-file V1 checkpoints (PROTOCOL.md "Checkpoints", "Checkpoint Schema"): one row per action,
/// each action a struct column (txn, add, remove, metaData, protocol), maps as MAP&lt;string,string&gt; and
/// stats as a JSON string. DuckDB turns the actions' JSON lines into Parquet with exactly these types.
/// </summary>
internal static class DeltaCheckpoints
{
    private const string Map = "MAP(VARCHAR, VARCHAR)";

    // The column types, in the protocol's field names. Missing optional fields are null, as readers expect.
    private static readonly string Columns = string.Join(", ",
        Column("txn", "STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)"),
        Column("add", $"STRUCT(path VARCHAR, partitionValues {Map}, size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags {Map})"),
        Column("remove", $"STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues {Map}, size BIGINT)"),
        Column("metaData", $"STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options {Map}), schemaString VARCHAR, partitionColumns VARCHAR[], configuration {Map}, createdTime BIGINT)"),
        Column("protocol", "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER)"));

    private static readonly Action<ILogger, string, long, int, long, Exception?> LogWritten = LoggerMessage.Define<string, long, int, long>(
        LogLevel.Debug, new EventId(10, "DeltaCheckpointWritten"), "Table {Table}: checkpoint {Version} written ({Rows} actions) in {Milliseconds} ms");

    public static async Task WriteAsync(DeltaTable table, DeltaSnapshot snapshot, ILogger logger, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var state = new DeltaLogEntry
        {
            Protocol = snapshot.Protocol,
            Metadata = snapshot.Metadata,
            Transactions = [.. snapshot.Transactions.Values.OrderBy(t => t.AppId, StringComparer.Ordinal)],
            // Checkpoint tombstones carry no stats or tags (PROTOCOL.md): they only serve VACUUM.
            Removes = [.. snapshot.Tombstones.Values.OrderBy(r => r.Path, StringComparer.Ordinal)],
            Adds = [.. snapshot.Files.Values.OrderBy(a => a.Path, StringComparer.Ordinal)],
        };
        var rows = 2 + state.Transactions.Count + state.Removes.Count + state.Adds.Count;

        var folder = ScratchFolder(table);
        try
        {
            var json = Path.Combine(folder, "actions.json");
            var parquet = Path.Combine(folder, DeltaPaths.CheckpointFileName(snapshot.Version));
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            DeltaLogCodec.WriteState(buffer, state);
            await File.WriteAllBytesAsync(json, buffer.WrittenMemory.ToArray(), cancellationToken).ConfigureAwait(false);

            using (var connection = table.Database.Connect())
            {
                connection.Execute(
                    $"COPY (SELECT txn, \"add\", remove, metaData, protocol FROM read_json({Literal(json)}, format = 'newline_delimited', columns = {{{Columns}}})) " +
                    $"TO {Literal(parquet)} (FORMAT parquet, COMPRESSION zstd)");
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
            // foreign checkpoint adds (stats_parsed, partitionValues_parsed, cdc …) are ignored there.
            using var connection = table.Database.Connect();
            using var result = connection.Query($"SELECT CAST(to_json(t) AS VARCHAR) FROM read_parquet({Literal(local)}) AS t");
            return DeltaLogCodec.Decode(Rows(result), path);
        }
        finally
        {
            TryDelete(folder);
        }
    }

    private static IEnumerable<JsonElement> Rows(DuckDbResult result)
    {
        while (result.Read())
        {
            using var row = JsonDocument.Parse(result.GetString(0));
            yield return row.RootElement;
        }
    }

    private static string Column(string name, string type) => $"'{name}': '{type}'";

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
