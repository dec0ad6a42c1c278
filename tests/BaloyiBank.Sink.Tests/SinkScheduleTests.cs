using Microsoft.Extensions.Configuration;

namespace BaloyiBank.Sink.Tests;

/// <summary>A clock the test sets: the schedule is asked for its next occurrence at exact instants, no waiting.</summary>
internal sealed class SetClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

public sealed class SinkScheduleTests
{
    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    [Fact]
    public void Without_options_the_sink_loads_every_minute()
    {
        var schedule = SinkSchedule.From(new SinkOptions());
        var clock = new SetClock(Utc(2026, 3, 1, 10, 0, 30));

        Assert.False(schedule.IsCron);
        Assert.Equal(Utc(2026, 3, 1, 10, 1, 30), schedule.Next(clock));
        Assert.Equal(TimeSpan.FromSeconds(60), schedule.MaxWait);
    }

    [Fact]
    public void An_interval_counts_from_the_end_of_the_last_load()
    {
        var schedule = SinkSchedule.From(new SinkOptions { Interval = TimeSpan.FromMinutes(5) });
        var clock = new SetClock(Utc(2026, 3, 1, 10, 2, 17));

        Assert.Equal(Utc(2026, 3, 1, 10, 7, 17), schedule.Next(clock));
    }

    [Fact]
    public void A_cron_schedule_fires_at_its_next_occurrence_strictly_after_now()
    {
        var schedule = SinkSchedule.From(new SinkOptions { Schedule = "*/15 * * * *" });
        var clock = new SetClock(Utc(2026, 3, 1, 10, 7, 0));

        Assert.True(schedule.IsCron);
        Assert.Equal(Utc(2026, 3, 1, 10, 15, 0), schedule.Next(clock));
        clock.Now = Utc(2026, 3, 1, 10, 15, 0);
        Assert.Equal(Utc(2026, 3, 1, 10, 30, 0), schedule.Next(clock));
        // A load that overran two occurrences waits for the next one: missed runs are not caught up.
        clock.Now = Utc(2026, 3, 1, 10, 58, 0);
        Assert.Equal(Utc(2026, 3, 1, 11, 0, 0), schedule.Next(clock));
    }

    [Fact]
    public void Six_fields_put_seconds_first()
    {
        var schedule = SinkSchedule.From(new SinkOptions { Schedule = "30 0 * * * *" });

        Assert.Equal(Utc(2026, 3, 1, 11, 0, 30), schedule.Next(Utc(2026, 3, 1, 10, 0, 30)));
    }

    [Fact]
    public void The_time_zone_is_explicit_and_utc_by_default()
    {
        var utc = SinkSchedule.From(new SinkOptions { Schedule = "0 2 * * *" });
        var johannesburg = SinkSchedule.From(new SinkOptions { Schedule = "0 2 * * *", ScheduleTimeZone = "Africa/Johannesburg" });
        var now = Utc(2026, 3, 1, 12, 0);

        Assert.Equal(Utc(2026, 3, 2, 2, 0), utc.Next(now));
        // 02:00 in Johannesburg (UTC+2, no daylight saving) is midnight UTC.
        Assert.Equal(Utc(2026, 3, 2, 0, 0), johannesburg.Next(now));
        Assert.Contains("in Africa/Johannesburg", johannesburg.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Daylight_saving_gaps_and_overlaps_follow_the_zone()
    {
        var london = SinkSchedule.From(new SinkOptions { Schedule = "30 1 * * *", ScheduleTimeZone = "Europe/London" });

        // 29 March 2026: clocks go from 01:00 GMT to 02:00 BST, so 01:30 does not exist; Cronos runs it at the gap's end.
        Assert.Equal(Utc(2026, 3, 29, 1, 0), london.Next(Utc(2026, 3, 28, 12, 0)));
        // 25 October 2026: 01:30 happens twice (BST, then GMT); the job runs once, at the first.
        Assert.Equal(Utc(2026, 10, 25, 0, 30), london.Next(Utc(2026, 10, 24, 12, 0)));
        Assert.Equal(Utc(2026, 10, 26, 1, 30), london.Next(Utc(2026, 10, 25, 0, 30)));
    }

    [Fact]
    public void Interval_and_schedule_together_are_refused_naming_both()
    {
        var result = new SinkOptionsValidator().Validate(null, new SinkOptions { Interval = TimeSpan.FromMinutes(1), Schedule = "*/5 * * * *" });

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Sink:Schedule and Sink:Interval are both set", failure, StringComparison.Ordinal);
        Assert.Contains("Fix: set only one", failure, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure);
        Assert.Throws<ArgumentException>(() => SinkSchedule.From(new SinkOptions { Interval = TimeSpan.FromMinutes(1), Schedule = "@hourly" }));
    }

    [Theory]
    [InlineData("every five minutes", null, "Sink:Schedule 'every five minutes' is not a cron expression", "Fix: set Sink__Schedule to 5 fields")]
    [InlineData("61 * * * *", null, "Sink:Schedule '61 * * * *' is not a cron expression", "Fix: set Sink__Schedule")]
    [InlineData("0 0 30 2 *", null, "Sink:Schedule '0 0 30 2 *' never occurs", "Fix: set Sink__Schedule")]
    [InlineData("@daily", "Mars/Olympus_Mons", "Sink:ScheduleTimeZone 'Mars/Olympus_Mons' is not a time zone on this machine", "Fix: set Sink__ScheduleTimeZone to an IANA id")]
    public void A_bad_schedule_is_refused_at_start_up_with_the_option_and_the_fix(string schedule, string? zone, string problem, string fix)
    {
        var options = new SinkOptions { Schedule = schedule };
        if (zone is not null)
        {
            options.ScheduleTimeZone = zone;
        }

        var failure = Assert.Single(new SinkOptionsValidator().Validate(null, options).Failures!);

        Assert.StartsWith(problem, failure, StringComparison.Ordinal);
        Assert.Contains(fix, failure, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure);
    }

    [Fact]
    public void The_interval_alone_keeps_its_range_check()
    {
        var failure = Assert.Single(new SinkOptionsValidator().Validate(null, new SinkOptions { Interval = TimeSpan.FromDays(2) }).Failures!);

        Assert.StartsWith("Sink:Interval must be between 00:00:00.100 and 1.00:00:00 (got 2.00:00:00). Fix: set Sink__Interval", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void The_schedule_binds_from_configuration_keys()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Sink:Schedule"] = "0 */6 * * *", ["Sink:ScheduleTimeZone"] = "Africa/Johannesburg" })
            .Build();
        var options = new SinkOptions();
        configuration.GetSection(SinkOptions.SectionName).Bind(options);

        Assert.True(new SinkOptionsValidator().Validate(null, options).Succeeded);
        Assert.Null(options.Interval);
        Assert.Equal(Utc(2026, 3, 1, 10, 0), SinkSchedule.From(options).Next(Utc(2026, 3, 1, 4, 0)));
    }
}
