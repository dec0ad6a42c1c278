using System.Globalization;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.RabbitMq;

// Usage: CrashWriter <amqp-uri> <log-name> <partitions> <total-events>
// Appends events numbered 0, 1, 2 … (key "acct-<n % 97>", value "<n>") in batches of 1-400,
// printing "ack <last number>" after each acknowledged batch, until <total-events> were appended.
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: CrashWriter <amqp-uri> <log-name> <partitions> <total-events>");
    return 2;
}

var options = new RabbitMqEventLogOptions { Uri = args[0], MaxEventsPerMessage = 50 };
var partitions = int.Parse(args[2], CultureInfo.InvariantCulture);
var total = long.Parse(args[3], CultureInfo.InvariantCulture);
await using var log = await RabbitMqEventLog.OpenAsync(args[1], partitions, options);
await using var producer = log.CreateProducer();
var random = new Random(7);
long next = 0;
while (next < total)
{
    var size = (int)Math.Min(random.Next(1, 400), total - next);
    var batch = new OutgoingEvent[size];
    for (var i = 0; i < size; i++)
    {
        batch[i] = NumberedEvents.Make(next + i);
    }

    await producer.AppendAsync(batch);
    next += size;
    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {next - 1}"));
    Console.Out.Flush();
}

return 0;

/// <summary>The events of the crash test, a pure function of their number.</summary>
internal static class NumberedEvents
{
    public static OutgoingEvent Make(long number) => new(
        string.Create(CultureInfo.InvariantCulture, $"acct-{number % 97}"),
        System.Text.Encoding.UTF8.GetBytes(number.ToString(CultureInfo.InvariantCulture)),
        new EventHeaders(new KeyValuePair<string, string>("bb-seq", number.ToString(CultureInfo.InvariantCulture))));
}
