namespace BaloyiBank.Generator;

/// <summary>
/// How busy the bank is at a given instant, relative to an average moment (mean 1 over a week of
/// ordinary days). Profiles are in South African time (SAST, UTC+2, no daylight saving): few
/// events at night, peaks at lunch and early evening, Friday/Saturday up, Sunday down, and a
/// payday spike on the 25th.
/// </summary>
internal static class ActivityCalendar
{
    public static readonly TimeSpan LocalOffset = TimeSpan.FromHours(2);

    // Index = local hour.
    private static readonly double[] HourShape =
    [
        0.15, 0.08, 0.05, 0.05, 0.08, 0.25, 0.60, 1.00, 1.20, 1.30, 1.40, 1.60,
        2.00, 1.90, 1.40, 1.35, 1.50, 1.90, 2.00, 1.60, 1.10, 0.80, 0.50, 0.30,
    ];

    // Index = DayOfWeek (Sunday = 0).
    private static readonly double[] DayShape = [0.70, 0.95, 0.95, 1.00, 1.00, 1.25, 1.15];

    private static readonly double[] HourWeight = Normalise(HourShape);
    private static readonly double[] DayWeight = Normalise(DayShape);

    public const int Payday = 25;

    /// <summary>Multiplier of a local calendar date: payday and the days around month ends.</summary>
    public static double DateFactor(DateOnly localDate) => localDate.Day switch
    {
        Payday => 2.2,
        Payday + 1 => 1.4,
        1 => 1.15,
        _ when localDate.Day == DateTime.DaysInMonth(localDate.Year, localDate.Month) => 1.1,
        _ => 1.0,
    };

    /// <summary>The intensity of one local day (weekday and date), before the hour of day.</summary>
    public static double DayIntensity(DateOnly localDate) =>
        DayWeight[(int)localDate.DayOfWeek] * DateFactor(localDate);

    public static double HourIntensity(int localHour) => HourWeight[localHour];

    public static DateTime ToLocal(long utcTicks) => new(utcTicks + LocalOffset.Ticks, DateTimeKind.Unspecified);

    /// <summary>The UTC ticks of a local (SAST) date and time.</summary>
    public static long ToUtcTicks(DateOnly localDate, TimeSpan localTime) =>
        localDate.ToDateTime(TimeOnly.MinValue).Ticks + localTime.Ticks - LocalOffset.Ticks;

    private static double[] Normalise(double[] shape)
    {
        var sum = 0.0;
        foreach (var value in shape)
        {
            sum += value;
        }

        var mean = sum / shape.Length;
        var result = new double[shape.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            result[i] = shape[i] / mean;
        }

        return result;
    }
}

/// <summary>
/// The simulated clock: a Poisson process whose intensity follows <see cref="ActivityCalendar"/>,
/// so it advances faster through quiet hours and event density follows time of day and weekday.
/// Never reads the wall clock.
/// </summary>
internal sealed class SimulatedClock(long startTicks, int eventsPerSimulatedDay)
{
    private readonly double _eventsPerTick = eventsPerSimulatedDay / (double)TimeSpan.TicksPerDay;
    private long _cachedLocalDay = -1;
    private double _cachedDayIntensity;

    /// <summary>Now, as UTC ticks.</summary>
    public long Ticks { get; private set; } = startTicks;

    /// <summary>Moves the clock by a fixed amount (the bootstrap migration runs at machine speed).</summary>
    public void AdvanceBy(long ticks) => Ticks += ticks;

    /// <summary>Moves to the next arrival of the process: <paramref name="exponential"/> (mean 1) units of integrated intensity.</summary>
    public void Advance(double exponential)
    {
        var remaining = exponential;
        while (true)
        {
            var localTicks = Ticks + ActivityCalendar.LocalOffset.Ticks;
            var hourEnd = ((localTicks / TimeSpan.TicksPerHour) + 1) * TimeSpan.TicksPerHour;
            var rate = _eventsPerTick * Intensity(localTicks);
            var capacity = rate * (hourEnd - localTicks);
            if (remaining <= capacity)
            {
                Ticks += (long)(remaining / rate);
                return;
            }

            remaining -= capacity;
            Ticks = hourEnd - ActivityCalendar.LocalOffset.Ticks;
        }
    }

    private double Intensity(long localTicks)
    {
        var localDay = localTicks / TimeSpan.TicksPerDay;
        if (localDay != _cachedLocalDay)
        {
            _cachedLocalDay = localDay;
            _cachedDayIntensity = ActivityCalendar.DayIntensity(DateOnly.FromDayNumber((int)localDay));
        }

        var hour = (int)(localTicks / TimeSpan.TicksPerHour % 24);
        return _cachedDayIntensity * ActivityCalendar.HourIntensity(hour);
    }
}
