using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Generator;
using BaloyiBank.Lake;
using DuckDB.NET.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cleansing.Tests.Worker;

/// <summary>
/// A real embedded log filled with the generated stream, and helpers to run the cleansing worker over it
/// into a real folder lake and to query the lake with DuckDB. Nothing is mocked.
/// </summary>
internal sealed class CleansingRig : IAsyncDisposable
{
    public const int Partitions = 4;

    private readonly List<GeneratedRecord> _records;

    private CleansingRig(string root, EmbeddedEventLog log, List<GeneratedRecord> records)
    {
        Root = root;
        Log = log;
        _records = records;
    }

    public string Root { get; }
    public EmbeddedEventLog Log { get; }
    public IReadOnlyList<GeneratedRecord> Records => _records;

    public static async Task<CleansingRig> CreateAsync(int events)
    {
        var root = Path.Combine(Path.GetTempPath(), "baloyi-cleansing-tests", Guid.NewGuid().ToString("N"));
        var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = Path.Combine(root, "log"), Partitions = Partitions });
        var rig = new CleansingRig(root, log, []);
        await rig.AppendAsync(events);
        return rig;
    }

    /// <summary>Appends the next <paramref name="events"/> records of the generated stream to the log.</summary>
    public async Task AppendAsync(int events)
    {
        var records = GeneratedEvents.Records(new GeneratorOptions()).Skip(_records.Count).Take(events).ToList();
        await using (var producer = Log.CreateProducer())
        {
            foreach (var chunk in records.Chunk(5_000))
            {
                await producer.AppendAsync([.. chunk.Select(r => new OutgoingEvent(r.Key, r.Payload, EventHeaders.Empty))]);
            }
        }

        _records.AddRange(records);
    }

    public string LakeRoot(string name) => Path.Combine(Root, name);

    /// <summary>A host with the cleansing worker only (no generator, no bus) on this log and the named lake.</summary>
    public IHost BuildHost(string lakeName, int flushRows, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ApplicationName = "cleansing-tests" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cleansing:FlushRows"] = flushRows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cleansing:FlushAge"] = "00:00:01",
        });
        builder.Logging.ClearProviders();
        // An instance handed to the container is not disposed with it: the log outlives each host.
        builder.Services.AddSingleton<IEventLog>(Log);
        builder.Services.AddSingleton<ILakeStore>(new FolderLakeStore(LakeRoot(lakeName)));
        builder.Services.AddCleansing(builder.Configuration);
        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>Runs a worker until every partition is committed to the log's end.</summary>
    public async Task<CleansingProgress> RunToEndAsync(string lakeName, int flushRows, TimeSpan? timeout = null, Action<IServiceCollection>? configure = null)
    {
        using var host = BuildHost(lakeName, flushRows, configure);
        await host.StartAsync();
        var progress = host.Services.GetRequiredService<CleansingProgress>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        while (!progress.IsCaughtUp)
        {
            Assert.Null(progress.Failure);
            Assert.True(DateTime.UtcNow < deadline, $"Cleansing did not catch up: lag {progress.Lag}");
            await Task.Delay(50);
        }

        await host.StopAsync();
        return progress;
    }

    /// <summary>Rows of a query over lake tables; <c>{table}</c> placeholders name silver tables by folder, or other tables by lake path (<c>{bronze/bank_events}</c>).</summary>
    /// <remarks>
    /// Read with DuckDB.NET, independent of the DuckDB cleansing writes with: NULL as null, timestamps as UTC
    /// <see cref="DateTimeOffset"/>, dates as <see cref="DateOnly"/>, blobs as byte arrays.
    /// </remarks>
    public static async Task<List<object?[]>> QueryAsync(string lakeRoot, string sql, params string[] tables)
    {
        var lake = new FolderLakeStore(lakeRoot);
        foreach (var name in tables)
        {
            using var table = new DeltaTable(lake, name.Contains('/', StringComparison.Ordinal) ? name : $"silver/{name}");
            var snapshot = await table.LoadAsync();
            var readSet = await table.GetReadSetAsync(snapshot);
            sql = sql.Replace($"{{{name}}}", readSet.ToSql(), StringComparison.Ordinal);
        }

        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var result = command.ExecuteReader();
        List<object?[]> rows = [];
        while (result.Read())
        {
            var row = new object?[result.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = result.IsDBNull(i) ? null : result.GetFieldType(i) switch
                {
                    var t when t == typeof(DateTime) => result.GetFieldValue<DateTimeOffset>(i),
                    var t when t == typeof(Stream) => Bytes(result.GetStream(i)),
                    _ => result.GetValue(i),
                };
            }

            rows.Add(row);
        }

        return rows;
    }

    private static byte[] Bytes(Stream stream)
    {
        using (stream)
        {
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
