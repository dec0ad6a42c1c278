using System.Globalization;
using BaloyiBank.EventHubs.TestDouble;

// A TEST DOUBLE for Azure Event Hubs (see README.md). Usage:
//   BaloyiBank.EventHubs.TestDouble [--port 0] [--hub events] [--partitions 4] [--consumer-groups a,b] [--data folder]
// Port 0 (the default) picks a free one; the emulator's 5672 is often RabbitMQ's here.
var options = new EventHubsTestDoubleOptions();
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    options = args[i] switch
    {
        "--port" => options with { Port = int.Parse(Value(), CultureInfo.InvariantCulture) },
        "--hub" => options with { HubName = Value() },
        "--partitions" => options with { PartitionCount = int.Parse(Value(), CultureInfo.InvariantCulture) },
        "--data" => options with { DataDirectory = Value() },
        "--consumer-groups" => options with { ConsumerGroups = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
        _ => throw new ArgumentException($"Unknown option '{args[i]}'. Options: --port, --hub, --partitions, --consumer-groups, --data."),
    };
}

await using var server = EventHubsTestDouble.Start(options);
Console.WriteLine($"Event Hubs TEST DOUBLE listening on 127.0.0.1:{server.Port}, hub '{server.HubName}', {options.PartitionCount} partitions, {(options.DataDirectory is null ? "memory only" : $"kept in {options.DataDirectory}")}.");
Console.WriteLine($"Connection string: {server.ConnectionString}");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
{
    ctx.Cancel = true;
    stop.Cancel();
});
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine("Stopping.");
}
