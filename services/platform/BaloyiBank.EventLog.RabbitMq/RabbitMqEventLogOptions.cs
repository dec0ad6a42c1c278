using System.Globalization;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>
/// The "EventLog:RabbitMq" section: where the broker is and how the log uses its streams.
/// Environment variables use double underscores, e.g. <c>EventLog__RabbitMq__Uri</c>.
/// Credentials belong in the URI (or in <see cref="UserName"/> / <see cref="Password"/>) given by
/// the environment or a secret store, never in a committed file; logs show the URI with the
/// password masked.
/// </summary>
public sealed class RabbitMqEventLogOptions
{
    public const string SectionName = "EventLog:RabbitMq";

    /// <summary>The broker, <c>amqp://user:password@host:5672/vhost</c> or <c>amqps://…:5671/…</c> (TLS).</summary>
    public string Uri { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>Overrides the URI's user when set (e.g. from a secret).</summary>
    public string? UserName { get; set; }

    /// <summary>Overrides the URI's password when set (e.g. from a secret). Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Retention of a new partition stream (<c>x-max-age</c>), default 7 days. RabbitMQ applies it
    /// per segment file: a whole segment goes once its newest message is older. Fixed when the
    /// stream is created; change an existing stream's with a RabbitMQ policy.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Segment file size of a new partition stream (<c>x-stream-max-segment-size-bytes</c>), default 500 MB (RabbitMQ's own default).</summary>
    public long MaxSegmentBytes { get; set; } = 500_000_000;

    /// <summary>Most events packed into one AMQP message, default 2,000.</summary>
    public int MaxEventsPerMessage { get; set; } = 2_000;

    /// <summary>Largest AMQP message body the producer builds, default 1 MiB (a single larger event gets a message of its own).</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>Messages a partition's producer may have published and not yet confirmed, default 64.</summary>
    public int MaxUnconfirmedMessages { get; set; } = 64;

    /// <summary>Messages a reader lets the broker send ahead of its acknowledgements (<c>BasicQos</c>), default 16.</summary>
    public ushort ReaderPrefetch { get; set; } = 16;

    /// <summary>Attempts after the first failed connect, attach or publish before the operation fails, default 10.</summary>
    public int RetryAttempts { get; set; } = 10;

    /// <summary>First retry delay, doubled per attempt with jitter up to <see cref="RetryMaxDelay"/>, default 0.2 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay between two retries, default 5 s.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>AMQP heartbeat, default 10 s: how fast the broker notices a vanished producer and frees its partitions.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a producer waits for another connection's hold on a partition (one writer per
    /// partition) to end, default 30 s; then appends fail with <see cref="EventLogLockedException"/>.
    /// </summary>
    public TimeSpan WriterLockWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a position lookup waits for a stream's first message before taking the stream as empty, default 1 s.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A burst of deliveries is over once none arrived for this long, default 100 ms.</summary>
    public TimeSpan ProbeQuiet { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The URI with its password replaced by ***, for logs and messages.</summary>
    public string MaskedUri => UriMasking.Mask(Uri);
}

/// <summary>
/// Checks "EventLog:RabbitMq" at start-up when <c>EventLog:Kind</c> is rabbitmq; every failure
/// names the option, the problem and the fix.
/// </summary>
public sealed class RabbitMqEventLogOptionsValidator(IOptions<EventLogOptions> eventLog) : IValidateOptions<RabbitMqEventLogOptions>
{
    public ValidateOptionsResult Validate(string? name, RabbitMqEventLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.Equals(eventLog.Value.Kind, EventLogKinds.RabbitMq, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Skip;
        }

        return Check(options).ToResult();
    }

    /// <summary>The checks themselves, whatever the kind.</summary>
    public static OptionProblems Check(RabbitMqEventLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var uriOk = System.Uri.TryCreate(options.Uri, UriKind.Absolute, out var uri)
            && uri.Scheme is "amqp" or "amqps"
            && !string.IsNullOrEmpty(uri.Host);
        return new OptionProblems(RabbitMqEventLogOptions.SectionName)
            .Require(uriOk, "Uri",
                $"must be an absolute amqp:// or amqps:// URI with a host (got '{options.MaskedUri}')",
                "set EventLog__RabbitMq__Uri, e.g. to amqp://user:password@rabbitmq.example:5672/ (credentials from the environment, not a file)")
            .Require(options.Retention >= TimeSpan.FromSeconds(1) && options.Retention <= TimeSpan.FromDays(3650), "Retention",
                $"must be between 00:00:01 and 3650.00:00:00 (got {options.Retention})",
                "set EventLog__RabbitMq__Retention, e.g. to 7.00:00:00")
            .Require(options.MaxSegmentBytes is >= 4096 and <= 4_000_000_000, "MaxSegmentBytes",
                string.Create(CultureInfo.InvariantCulture, $"must be between 4096 and 4000000000 (got {options.MaxSegmentBytes})"),
                "set EventLog__RabbitMq__MaxSegmentBytes, e.g. to 500000000")
            .Require(options.MaxEventsPerMessage is >= 1 and <= 100_000, "MaxEventsPerMessage",
                $"must be between 1 and 100000 (got {options.MaxEventsPerMessage})",
                "set EventLog__RabbitMq__MaxEventsPerMessage, e.g. to 2000")
            .Require(options.MaxMessageBytes is >= 4096 and <= 64 * 1024 * 1024, "MaxMessageBytes",
                $"must be between 4096 and 67108864 (got {options.MaxMessageBytes})",
                "set EventLog__RabbitMq__MaxMessageBytes, e.g. to 1048576")
            .Require(options.MaxUnconfirmedMessages is >= 1 and <= 10_000, "MaxUnconfirmedMessages",
                $"must be between 1 and 10000 (got {options.MaxUnconfirmedMessages})",
                "set EventLog__RabbitMq__MaxUnconfirmedMessages, e.g. to 64")
            .Require(options.ReaderPrefetch >= 1, "ReaderPrefetch",
                $"must be between 1 and 65535 (got {options.ReaderPrefetch})",
                "set EventLog__RabbitMq__ReaderPrefetch, e.g. to 16")
            .Require(options.RetryAttempts is >= 0 and <= 1000, "RetryAttempts",
                $"must be between 0 and 1000 (got {options.RetryAttempts})",
                "set EventLog__RabbitMq__RetryAttempts, e.g. to 10")
            .Require(options.RetryBaseDelay > TimeSpan.Zero && options.RetryBaseDelay <= options.RetryMaxDelay, "RetryBaseDelay",
                $"must be above 0 and at most RetryMaxDelay {options.RetryMaxDelay} (got {options.RetryBaseDelay})",
                "set EventLog__RabbitMq__RetryBaseDelay, e.g. to 00:00:00.200")
            .Require(options.RetryMaxDelay > TimeSpan.Zero && options.RetryMaxDelay <= TimeSpan.FromMinutes(5), "RetryMaxDelay",
                $"must be above 0 and at most 00:05:00 (got {options.RetryMaxDelay})",
                "set EventLog__RabbitMq__RetryMaxDelay, e.g. to 00:00:05")
            .Require(options.Heartbeat >= TimeSpan.FromSeconds(1) && options.Heartbeat <= TimeSpan.FromMinutes(10), "Heartbeat",
                $"must be between 00:00:01 and 00:10:00 (got {options.Heartbeat})",
                "set EventLog__RabbitMq__Heartbeat, e.g. to 00:00:10")
            .Require(options.WriterLockWait >= TimeSpan.Zero && options.WriterLockWait <= TimeSpan.FromHours(1), "WriterLockWait",
                $"must be between 00:00:00 and 01:00:00 (got {options.WriterLockWait})",
                "set EventLog__RabbitMq__WriterLockWait, e.g. to 00:00:30")
            .Require(options.ProbeTimeout > TimeSpan.Zero && options.ProbeTimeout <= TimeSpan.FromMinutes(1), "ProbeTimeout",
                $"must be above 0 and at most 00:01:00 (got {options.ProbeTimeout})",
                "set EventLog__RabbitMq__ProbeTimeout, e.g. to 00:00:01")
            .Require(options.ProbeQuiet > TimeSpan.Zero && options.ProbeQuiet <= options.ProbeTimeout, "ProbeQuiet",
                $"must be above 0 and at most ProbeTimeout {options.ProbeTimeout} (got {options.ProbeQuiet})",
                "set EventLog__RabbitMq__ProbeQuiet, e.g. to 00:00:00.100");
    }
}
