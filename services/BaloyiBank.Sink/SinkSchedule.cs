using System.Globalization;
using Cronos;

namespace BaloyiBank.Sink;

/// <summary>
/// When the sink loads without a wake-up: every <see cref="SinkOptions.Interval"/> after the previous load ends, or at
/// each occurrence of the cron expression <see cref="SinkOptions.Schedule"/> in <see cref="SinkOptions.ScheduleTimeZone"/>
/// (Cronos: 5 fields <c>minute hour day-of-month month day-of-week</c>, 6 with seconds first, or a macro such as
/// <c>@hourly</c>; daylight-saving gaps and overlaps as Cronos handles them: a skipped time runs at the gap's end,
/// a repeated one once). Occurrences missed while a load ran are skipped, not caught up.
/// </summary>
public sealed class SinkSchedule
{
    /// <summary>The interval when neither <see cref="SinkOptions.Interval"/> nor <see cref="SinkOptions.Schedule"/> is set.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(60);

    private readonly TimeSpan? interval;
    private readonly CronExpression? cron;
    private readonly TimeZoneInfo zone;

    private SinkSchedule(TimeSpan? interval, CronExpression? cron, TimeZoneInfo zone)
    {
        this.interval = interval;
        this.cron = cron;
        this.zone = zone;
    }

    /// <summary>The schedule <paramref name="options"/> name; throws <see cref="ArgumentException"/> with the fix when they are wrong.</summary>
    public static SinkSchedule From(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (schedule, problem) = TryFrom(options);
        return schedule ?? throw new ArgumentException(problem, nameof(options));
    }

    /// <summary>The schedule, or the one-line operator message (option, problem, fix) of why there is none.</summary>
    internal static (SinkSchedule? Schedule, string? Problem) TryFrom(SinkOptions options)
    {
        var expression = options.Schedule?.Trim();
        var hasCron = !string.IsNullOrEmpty(expression);
        if (hasCron && options.Interval is { } both)
        {
            return (null, $"{SinkOptions.SectionName}:Schedule and {SinkOptions.SectionName}:Interval are both set ('{expression}' and {both}). Fix: set only one: remove Sink__Interval to load on the cron schedule, or remove Sink__Schedule to load every interval.");
        }

        if (!hasCron)
        {
            var every = options.Interval ?? DefaultInterval;
            return every >= TimeSpan.FromMilliseconds(100) && every <= TimeSpan.FromDays(1)
                ? (new SinkSchedule(every, null, TimeZoneInfo.Utc), null)
                : (null, $"{SinkOptions.SectionName}:Interval must be between 00:00:00.100 and 1.00:00:00 (got {every}). Fix: set Sink__Interval to e.g. 00:01:00, or a cron expression in Sink__Schedule instead.");
        }

        var zoneId = string.IsNullOrWhiteSpace(options.ScheduleTimeZone) ? "UTC" : options.ScheduleTimeZone.Trim();
        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return (null, $"{SinkOptions.SectionName}:ScheduleTimeZone '{zoneId}' is not a time zone on this machine. Fix: set Sink__ScheduleTimeZone to an IANA id such as UTC or Africa/Johannesburg (the tzdata package provides them).");
        }

        CronExpression cron;
        try
        {
            // Six fields: the first is seconds.
            var format = expression!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
            cron = CronExpression.Parse(expression, format);
        }
        catch (CronFormatException ex)
        {
            return (null, $"{SinkOptions.SectionName}:Schedule '{expression}' is not a cron expression ({ex.Message.TrimEnd('.')}). Fix: set Sink__Schedule to 5 fields (minute hour day-of-month month day-of-week), e.g. '*/5 * * * *' for every 5 minutes, 6 with seconds first, or a macro such as @hourly.");
        }

        // An impossible date (e.g. 30 February) parses but has no occurrence.
        if (cron.GetNextOccurrence(DateTimeOffset.UnixEpoch, zone) is null)
        {
            return (null, $"{SinkOptions.SectionName}:Schedule '{expression}' never occurs. Fix: set Sink__Schedule to an expression with a real date, e.g. '0 2 * * *' for 02:00 every day.");
        }

        return (new SinkSchedule(null, cron, zone), null);
    }

    /// <summary>True for a cron schedule, false for an interval.</summary>
    public bool IsCron => cron is not null;

    /// <summary>When to load next after a load that ended at <paramref name="now"/>.</summary>
    public DateTimeOffset Next(DateTimeOffset now) =>
        cron is null
            ? now + interval!.Value
            : cron.GetNextOccurrence(now, zone) ?? DateTimeOffset.MaxValue;

    /// <summary>When to load next, by <paramref name="time"/>'s clock.</summary>
    public DateTimeOffset Next(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return Next(time.GetUtcNow());
    }

    /// <summary>The longest the worker waits between looks at the clock: the interval, or no limit for cron (the lease tick decides).</summary>
    public TimeSpan MaxWait => interval ?? TimeSpan.MaxValue;

    public override string ToString() => cron is null
        ? string.Create(CultureInfo.InvariantCulture, $"every {interval}")
        : $"cron '{cron}' in {zone.Id}";
}
