using System.Globalization;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.CrashWriter;
using BaloyiBank.EventLog.Embedded;

// Usage: CrashWriter <folder> <run> <partitions> [write|hold]
//   write: append batches forever; after each acknowledged batch print
//          "ack <partition>:<offset>:<sequence> ... end" (the batch's last event per partition).
//   hold:  take the write locks, print "holding <pid>", then wait to be killed.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: CrashWriter <folder> <run> <partitions> [write|hold]");
    return 2;
}

var folder = args[0];
var run = int.Parse(args[1], CultureInfo.InvariantCulture);
var partitions = int.Parse(args[2], CultureInfo.InvariantCulture);
var mode = args.Length > 3 ? args[3] : "write";

await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions
{
    Directory = folder,
    Partitions = partitions,
    SegmentBytes = 256 * 1024,
});
await using var producer = log.CreateProducer();
var stdout = Console.Out;

if (mode == "hold")
{
    stdout.WriteLine($"holding {Environment.ProcessId}");
    stdout.Flush();
    await Task.Delay(Timeout.Infinite);
    return 0;
}

var random = new Random(run);
long counter = 0;
var last = new (long Offset, long Sequence)[partitions];
var touched = new bool[partitions];
while (true)
{
    var size = random.Next(1, 1500);
    var batch = new OutgoingEvent[size];
    for (var i = 0; i < size; i++)
    {
        var sequence = CrashPayload.Sequence(run, counter++);
        batch[i] = new OutgoingEvent(CrashPayload.KeyFor(sequence), CrashPayload.ValueFor(sequence), CrashPayload.HeadersFor(sequence));
    }

    var result = await producer.AppendAsync(batch);
    Array.Clear(touched);
    for (var i = 0; i < size; i++)
    {
        var position = result.Positions[i];
        last[position.Partition] = (position.Offset, CrashPayload.SequenceOf(batch[i].Value.Span));
        touched[position.Partition] = true;
    }

    var line = new System.Text.StringBuilder("ack");
    for (var p = 0; p < partitions; p++)
    {
        if (touched[p])
        {
            line.Append(CultureInfo.InvariantCulture, $" {p}:{last[p].Offset}:{last[p].Sequence}");
        }
    }

    // "end" marks a complete line: one cut short by the kill is not an acknowledgement.
    line.Append(" end");
    stdout.WriteLine(line.ToString());
    stdout.Flush();
}
