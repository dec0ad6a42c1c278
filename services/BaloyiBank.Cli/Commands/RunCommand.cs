using System.CommandLine;
using System.Globalization;
using BaloyiBank.Aggregator;
using BaloyiBank.Cli.Gold;
using BaloyiBank.Cli.Hosting;
using BaloyiBank.Delta;
using DuckDB.NET.Data;
using BaloyiBank.Lake;
using BaloyiBank.Sink;
using BaloyiBank.Warehouse;
using BaloyiBank.Cli.Presentation;
using BaloyiBank.EventLog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Cli.Commands;

/// <summary><c>baloyi run</c>: every service that exists, in one process, on embedded defaults.</summary>
internal static class RunCommand
{
    /// <summary>Events per second when no limit is given: a demo that a person can watch.</summary>
    public const double DemoRate = 2_000;

    public static Command Create()
    {
        var data = CommonOptions.Data();
        var partitions = CommonOptions.Partitions();
        var events = CommonOptions.Number<long>("--events", "Generate N events in this run, then stop.",
            1, long.MaxValue, "a whole number of at least 1", "pass e.g. --events 200000, or leave it out to stream until Ctrl-C");
        var totalEvents = CommonOptions.Number<long>("--total-events", "Stop once the stream holds T events in total (resumes after a crash to the same end).",
            1, long.MaxValue, "a whole number of at least 1", "pass e.g. --total-events 1000000");
        var duration = CommonOptions.Duration("--duration", "Stop after this long: 90s, 5m, 1h30m.", "5m");
        var rate = CommonOptions.Number<double>("--rate", $"Target events per second; 0 = unlimited. Default: unlimited with a limit, {DemoRate:N0}/s without.",
            0, double.MaxValue, "0 (unlimited) or a positive number of events per second", "pass e.g. --rate 2000");
        var burst = CommonOptions.Number<int>("--burst", "Events that may be sent at once above the rate (token bucket size).",
            1, int.MaxValue, "a whole number of at least 1", "pass e.g. --burst 1000");
        var seed = CommonOptions.Number<long>("--seed", "Seed of the synthetic bank; the same seed and start give byte-identical events.",
            long.MinValue, long.MaxValue, "a whole number", "pass e.g. --seed 42");
        var start = CommonOptions.UtcInstant("--start", "Simulated clock start, a UTC instant such as 2026-01-01T00:00:00Z.");
        var summaryJson = new Option<FileInfo?>("--summary-json") { Description = "Also write the final summary as JSON to this file." };
        var verbose = new Option<bool>("--verbose") { Description = "Show the services' information logs." };
        var warehouse = CommonOptions.Warehouse("Where the sink loads gold: duckdb (default, <data>/warehouse.duckdb) or postgres://user:password@host:port/database.");
        var eventLog = EventLogChoice.Option("The event log: embedded (default, <data>/log), amqp://user:password@host:port/ (RabbitMQ streams), eventhubs:<connection string> or eventhubs://<ns>.servicebus.windows.net/<hub> (Azure Event Hubs). The hub must exist with --partitions partitions.");
        var noGenerator = new Option<bool>("--no-generator")
        {
            Description = "Run cleansing, the aggregator and the sink over what the log already holds (e.g. after baloyi backfill), without the generator; stop once the log is drained.",
        };

        var dashboard = new Option<bool>("--dashboard")
        {
            Description = "Start the Aspire dashboard on 127.0.0.1 (anonymous, loopback only), send traces, metrics and logs to it, print its URL, and keep it up after the run until Ctrl-C.",
        };

        var command = new Command("run", "Run the pipeline in one process on embedded defaults, with live progress and a summary in figures.")
        {
            data, events, totalEvents, duration, rate, burst, seed, start, partitions, summaryJson, verbose, warehouse, eventLog, noGenerator, dashboard,
        };
        command.Validators.Add(r =>
        {
            // Presence, not values: a value that failed to parse has its own error and GetValue would throw.
            if (r.GetResult(events) is { Implicit: false } && r.GetResult(totalEvents) is { Implicit: false })
            {
                r.AddError("--events and --total-events cannot be combined. Fix: pass one of them.");
            }

            if (r.GetResult(noGenerator) is { Implicit: false } && new Option[] { events, totalEvents, duration, rate, burst, seed, start }.FirstOrDefault(o => r.GetResult(o) is { Implicit: false }) is { } generatorOption)
            {
                r.AddError($"--no-generator runs without the generator, so {generatorOption.Name} has no meaning. Fix: leave out {generatorOption.Name}, or --no-generator.");
            }
        });
        command.SetAction((parse, ct) =>
        {
            var log = parse.GetValue(eventLog) ?? EventLogChoice.Embedded;
            var limited = parse.GetValue(events) is not null || parse.GetValue(totalEvents) is not null || parse.GetValue(duration) is not null;
            var settings = new RunSettings(
                DataDirectory: parse.GetValue(data)!.FullName,
                Overrides: new Dictionary<string, string?>
                {
                    ["EventLog:Embedded:Directory"] = Path.Combine(parse.GetValue(data)!.FullName, "log"),
                    ["Lake:Folder:Root"] = Path.Combine(parse.GetValue(data)!.FullName, "lake"),
                    ["Warehouse:DuckDbPath"] = Path.Combine(parse.GetValue(data)!.FullName, "warehouse.duckdb"),
                    ["Warehouse:Kind"] = parse.GetValue(warehouse) is { } w && w != "duckdb" ? "postgres" : null,
                    ["Warehouse:ConnectionString"] = parse.GetValue(warehouse) is { } url && url != "duckdb" ? url : null,
                    ["EventLog:Partitions"] = Invariant(parse.GetValue(partitions)),
                    ["Generator:MaxEvents"] = Invariant(parse.GetValue(events)),
                    ["Generator:StopAtSequence"] = Invariant(parse.GetValue(totalEvents)),
                    ["Generator:Duration"] = parse.GetValue(duration)?.ToString("c", CultureInfo.InvariantCulture),
                    ["Generator:Rate"] = Invariant(parse.GetValue(rate) ?? (limited ? 0 : DemoRate)),
                    ["Generator:Burst"] = Invariant(parse.GetValue(burst)),
                    ["Generator:Seed"] = Invariant(parse.GetValue(seed)),
                    ["Generator:Start"] = parse.GetValue(start)?.ToString("O", CultureInfo.InvariantCulture),
                }.Concat(log.Overrides()).Where(kv => kv.Value is not null).ToDictionary(),
                SummaryJson: parse.GetValue(summaryJson),
                Verbose: parse.GetValue(verbose),
                EventLog: log,
                NoGenerator: parse.GetValue(noGenerator),
                Dashboard: parse.GetValue(dashboard));
            return ExecuteAsync(settings, ct);
        });
        return command;
    }

    private sealed record RunSettings(string DataDirectory, Dictionary<string, string?> Overrides, FileInfo? SummaryJson, bool Verbose, EventLogChoice EventLog, bool NoGenerator, bool Dashboard = false);

    private static async Task<int> ExecuteAsync(RunSettings settings, CancellationToken cancellationToken)
    {
        // A folder's lake progress holds offsets of one log: continuing it on another would skip or repeat events.
        var earlier = EventLogChoice.ReadRecord(settings.DataDirectory)?.Kind
            ?? (Directory.Exists(Path.Combine(settings.DataDirectory, "log")) ? EventLog.EventLogKinds.Embedded : null);
        if (earlier is not null && earlier != settings.EventLog.Kind)
        {
            await Console.Error.WriteLineAsync($"The data folder {settings.DataDirectory} was run on the {earlier} event log, not {settings.EventLog.Kind}; its lake's progress is in that log's offsets. Fix: pass the --event-log it used, or a new --data folder.");
            return 2;
        }

        using var dashboard = settings.Dashboard ? await AspireDashboard.StartAsync(cancellationToken) : null;
        if (dashboard is not null)
        {
            foreach (var (key, value) in dashboard.ExporterSettings())
            {
                settings.Overrides[key] = value;
            }

            await Console.Out.WriteLineAsync($"Aspire dashboard: {dashboard.Url} (traces, metrics, logs; OTLP at {dashboard.OtlpHttpEndpoint}; anonymous, loopback only)");
        }

        var code = await RunHostAsync(settings, cancellationToken);
        if (dashboard is not null && !cancellationToken.IsCancellationRequested)
        {
            // Telemetry lives only in the dashboard's memory: keep it to be read until the person is done.
            await Console.Out.WriteLineAsync($"The run is over; the dashboard stays up at {dashboard.Url} until Ctrl-C.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return code;
    }

    private static async Task<int> RunHostAsync(RunSettings settings, CancellationToken cancellationToken)
    {
        var console = new RunConsole();
        var level = settings.Verbose ? LogLevel.Information : LogLevel.Warning;
        var host = settings.NoGenerator
            // The log is complete as it stands: cleansing stops the host once every partition is drained.
            ? PipelineHost.Build(settings.Overrides, level, PipelineParts.Cleansing | PipelineParts.Aggregator | PipelineParts.Sink,
                services => services.AddSingleton<BaloyiBank.Cleansing.IUpstreamCompletion>(new LogAsItStands()))
            : PipelineHost.Build(settings.Overrides, level);
        try
        {
            return await ExecuteAsync(settings, host, console, cancellationToken);
        }
        finally
        {
            host.Dispose();
        }
    }

    private static async Task<int> ExecuteAsync(RunSettings settings, IHost host, RunConsole console, CancellationToken cancellationToken)
    {
        try
        {
            // Validate every option before anything starts, so a bad one is a message, not a host failure log.
            host.Services.GetService<IStartupValidator>()?.Validate();
            if (!settings.EventLog.IsEmbedded)
            {
                // A remote log is reached once before anything starts: a missing hub or another partition count is one message, not failing workers.
                await host.Services.GetRequiredService<IEventLog>().DescribeAsync(cancellationToken);
            }

            await host.StartAsync(cancellationToken);
        }
        catch (OptionsValidationException invalid)
        {
            RunConsole.InvalidConfiguration(invalid.Failures);
            return 2;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception startFailure) when (startFailure is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            RunConsole.StartFailed(startFailure);
            return 1;
        }
        catch (Exception unreachable) when (!settings.EventLog.IsEmbedded && unreachable is Azure.RequestFailedException or Azure.Messaging.EventHubs.EventHubsException or Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"The event log {settings.EventLog.Location} cannot be used: {unreachable.Message} Fix: check that the hub exists with --partitions partitions, the endpoint is reachable and the identity or key may send and receive.");
            return 1;
        }

        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var progress = RunProgressSource.From(host.Services);
        var log = host.Services.GetRequiredService<IEventLog>();
        if (!settings.EventLog.IsEmbedded)
        {
            await settings.EventLog.RecordAsync(settings.DataDirectory, log.Name, log.PartitionCount);
        }

        console.Header(settings.DataDirectory, settings.EventLog.IsEmbedded ? progress.Description() : $"log {settings.EventLog.Location} '{log.Name}' · {progress.Description()}");

        using (var stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping, cancellationToken))
        {
            await console.ShowProgressAsync(progress, log, stopping.Token);
        }

        await host.StopAsync(CancellationToken.None);
        var summary = await RunSummary.CreateAsync(settings.DataDirectory, progress.Snapshot(), log) with
        {
            LogLocation = settings.EventLog.IsEmbedded ? null : settings.EventLog.Location,
        };
        if (summary.Error is null && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                summary = summary with
                {
                    Gold = await GoldReport.CatchUpAndReadAsync(host.Services.GetRequiredService<ILakeStore>(),
                        host.Services.GetRequiredService<IOptions<AggregatorOptions>>().Value, cancellationToken),
                };
            }
            catch (Exception goldFailure) when (goldFailure is IOException or InvalidOperationException or DuckDBException or DeltaProtocolException or DeltaTableNotFoundException)
            {
                summary = summary with { GoldError = goldFailure.Message };
            }

            if (summary.Gold is not null)
            {
                // The host's sink holds the warehouse (DuckDB allows one opener): release it first.
                var lake = host.Services.GetRequiredService<ILakeStore>();
                var warehouseOptions = host.Services.GetRequiredService<IOptions<WarehouseOptions>>().Value;
                var sinkOptions = host.Services.GetRequiredService<IOptions<SinkOptions>>().Value;
                host.Dispose();
                try
                {
                    summary = summary with
                    {
                        Warehouse = await WarehouseReport.CatchUpAndVerifyAsync(lake, warehouseOptions, sinkOptions,
                            Path.Combine(settings.DataDirectory, ".verify-warehouse"), cancellationToken),
                    };
                }
                catch (Exception sinkFailure) when (sinkFailure is IOException or InvalidOperationException or DuckDBException or WarehouseException or DeltaProtocolException)
                {
                    summary = summary with { WarehouseError = sinkFailure.Message };
                }
            }
        }

        console.Summary(summary);
        if (settings.SummaryJson is { } file)
        {
            await summary.WriteJsonAsync(file.FullName);
        }

        return summary.Error is null && summary.GoldError is null && summary.WarehouseError is null && summary.Warehouse?.Verification.Matches != false ? 0 : 1;
    }

    /// <summary>No producer in this run: the log's end is final from the start.</summary>
    private sealed class LogAsItStands : BaloyiBank.Cleansing.IUpstreamCompletion
    {
        public bool IsComplete => true;
    }

    private static string? Invariant(IFormattable? value) => value?.ToString(null, CultureInfo.InvariantCulture);

    private static string? Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
