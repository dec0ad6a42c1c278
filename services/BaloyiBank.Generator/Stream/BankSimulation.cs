using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

/// <summary>
/// The synthetic bank: a deterministic state machine that yields the stream one record at a time.
/// Everything it does comes from <see cref="StreamSettings"/> through its own PRNG and simulated
/// clock, so the same settings always yield the same records. It knows nothing of the event log.
/// </summary>
internal sealed partial class BankSimulation
{
    private static readonly long OneMinute = TimeSpan.TicksPerMinute;
    private static readonly long DuplicateWindow = TimeSpan.FromMinutes(10).Ticks;

    private readonly StreamSettings _settings;
    private readonly StreamRandom _random;
    private readonly SimulatedClock _clock;
    private readonly double[] _kindThresholds;
    private readonly Queue<GeneratedEvent> _pending = new();
    private readonly RecentTransactions _recent = new(64);

    private long _nextSequence;
    private long _actionTicks;
    private long _lastOnTimeTicks;
    private int _bootstrapped;

    public BankSimulation(StreamSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        // Seed and start both pick the stream: another start is another bank, not this one shifted in time.
        var seed = unchecked((ulong)settings.Seed);
        var start = unchecked((ulong)settings.Start.UtcTicks);
        _random = new StreamRandom(StreamRandom.SplitMix64(ref seed) ^ StreamRandom.SplitMix64(ref start));
        _clock = new SimulatedClock(settings.Start.UtcTicks, settings.EventsPerSimulatedDay);
        _actionTicks = _clock.Ticks;
        _lastOnTimeTicks = _clock.Ticks;

        // Cumulative thresholds over the non-clean kinds in enum order; above the last one is clean.
        _kindThresholds = new double[EventKinds.All.Count];
        var sum = 0.0;
        foreach (var kind in EventKinds.All)
        {
            if (kind != EventKind.Clean)
            {
                sum += settings.KindShares[(int)kind];
            }

            _kindThresholds[(int)kind] = kind == EventKind.Clean ? 0.0 : sum;
        }

        ScheduleFirstMonthlyRuns();
    }

    /// <summary>The sequence number the next record gets.</summary>
    public long NextSequence => _nextSequence;

    /// <summary>The simulated now, as UTC ticks.</summary>
    public long ClockTicks => _clock.Ticks;

    public GeneratedEvent Next()
    {
        while (_pending.Count == 0)
        {
            ProduceAction();
        }

        return _pending.Dequeue().WithSequence(_nextSequence++);
    }

    /// <summary>
    /// One business action at one instant: a bootstrap customer, due scheduled work or a customer's
    /// activity. Its records share that instant; the clock still advances once per record so that
    /// event density, not action density, follows the calendar.
    /// </summary>
    private void ProduceAction()
    {
        if (_bootstrapped < _settings.InitialCustomers)
        {
            _actionTicks = _clock.Ticks;
            BootstrapCustomer();
            _bootstrapped++;
            // The bootstrap is a migration run at machine speed, not customer behaviour.
            _clock.AdvanceBy(_pending.Count * TimeSpan.TicksPerMillisecond);
            return;
        }

        _clock.Advance(_random.NextExponential());
        _actionTicks = _clock.Ticks;
        while (_pending.Count == 0)
        {
            if (_schedule.TryPeek(out var work, out var due) && due.Ticks <= _actionTicks)
            {
                _schedule.Dequeue();
                work.Run(this);
            }
            else
            {
                CustomerActivity();
            }
        }

        for (var i = 1; i < _pending.Count; i++)
        {
            _clock.Advance(_random.NextExponential());
        }
    }

    private static DateTimeOffset Instant(long ticks) => new(ticks - (ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private DateTimeOffset Now => Instant(_actionTicks);

    private DateOnly LocalToday => DateOnly.FromDateTime(ActivityCalendar.ToLocal(_actionTicks));

    /// <summary>A reference event: always clean, and the stream's on-time watermark moves with it.</summary>
    private void EmitReference(BankEvent bankEvent)
    {
        _pending.Enqueue(new GeneratedEvent(0, EventKind.Clean, bankEvent, 0, 0));
        _lastOnTimeTicks = _actionTicks;
    }

    /// <summary>
    /// Posts a money movement whose amount already fits the account. The record's kind is drawn
    /// here: a duplicate draw re-sends an earlier transaction first and draws again, so every
    /// transaction record is one independent draw. Only valid kinds move the balance.
    /// </summary>
    private void PostTransaction(
        Account account, TransactionType type, long cents, Channel channel, GeoLocation location,
        MerchantCategory? category = null, string? merchant = null, string? counterparty = null, string? reference = null)
    {
        var transaction = new TransactionPosted
        {
            EventId = NewEventId(),
            OccurredAt = Now,
            TransactionId = NewId(IdKind.Transaction),
            AccountId = account.Id,
            CustomerId = account.Customer.Id,
            TransactionType = type,
            Amount = Money.FromCents(cents),
            Currency = account.Currency.Code,
            Channel = channel,
            MerchantCategory = category,
            MerchantName = merchant,
            Counterparty = counterparty,
            Reference = reference,
            Location = location,
        };

        EventKind kind;
        while ((kind = DrawKind()) == EventKind.Duplicate)
        {
            if (!_recent.TryPick(_random, _actionTicks - DuplicateWindow, out var original))
            {
                kind = EventKind.Clean;
                break;
            }

            _pending.Enqueue(new GeneratedEvent(0, EventKind.Duplicate, original, 0, 0));
        }

        var signedCents = TransactionTypes.IsCredit(type) ? cents : -cents;
        switch (kind)
        {
            case EventKind.Late:
                // Behind everything on time so far, but never before the account was opened.
                var maxLateness = _lastOnTimeTicks - account.OpenedTicks;
                if (maxLateness < OneMinute)
                {
                    goto case EventKind.Clean;
                }

                var lateness = Math.Min(maxLateness, (long)(_random.LogUniform(1, 24 * 60) * OneMinute));
                transaction = transaction with { OccurredAt = Instant(_lastOnTimeTicks - lateness) };
                account.BalanceCents += signedCents;
                _pending.Enqueue(new GeneratedEvent(0, EventKind.Late, transaction, 0, 0));
                _recent.Add(transaction, _actionTicks);
                break;
            case EventKind.Clean:
                account.BalanceCents += signedCents;
                _pending.Enqueue(new GeneratedEvent(0, EventKind.Clean, transaction, 0, 0));
                _recent.Add(transaction, _actionTicks);
                _lastOnTimeTicks = _actionTicks;
                break;
            case EventKind.MalformedJson:
                _pending.Enqueue(new GeneratedEvent(0, kind, transaction, (byte)_random.NextInt(PayloadDamage.MalformedVariants), _random.NextUInt64()));
                break;
            case EventKind.MissingField:
                _pending.Enqueue(new GeneratedEvent(0, kind, transaction, (byte)_random.NextInt(PayloadDamage.DroppableFields.Length), 0));
                break;
            case EventKind.UnknownCurrency:
                Enqueue(kind, transaction with { Currency = _random.Pick(Currencies.NotIso4217) });
                break;
            case EventKind.NonPositiveAmount:
                Enqueue(kind, transaction with { Amount = Money.FromCents(_random.Chance(0.4) ? 0 : -cents) });
                break;
            case EventKind.UnknownAccount:
                // Real account numbers count up from ACC-00000001; this range is never reached.
                Enqueue(kind, transaction with { AccountId = $"ACC-9{_random.NextInt(10_000_000):D7}" });
                break;
            case EventKind.FutureTimestamp:
                var ahead = (long)(_random.LogUniform(1, 180) * TimeSpan.TicksPerDay);
                Enqueue(kind, transaction with { OccurredAt = Instant(_actionTicks + ahead) });
                break;
            default:
                throw new InvalidOperationException($"Kind {kind} cannot be applied to a transaction.");
        }
    }

    private void Enqueue(EventKind kind, BankEvent bankEvent) => _pending.Enqueue(new GeneratedEvent(0, kind, bankEvent, 0, 0));

    private EventKind DrawKind()
    {
        var u = _random.NextDouble();
        for (var i = 1; i < _kindThresholds.Length; i++)
        {
            if (u < _kindThresholds[i])
            {
                return (EventKind)i;
            }
        }

        return EventKind.Clean;
    }

    /// <summary>A random UUID-v4-shaped event id from the stream's PRNG (never Guid.NewGuid).</summary>
    private string NewEventId()
    {
        var high = (_random.NextUInt64() & 0xFFFFFFFFFFFF0FFFUL) | 0x4000UL;
        var low = (_random.NextUInt64() & 0x3FFFFFFFFFFFFFFFUL) | 0x8000000000000000UL;
        return string.Create(36, (high, low), static (span, bits) =>
        {
            const string hex = "0123456789abcdef";
            var position = 0;
            for (var i = 0; i < 32; i++)
            {
                if (i is 8 or 12 or 16 or 20)
                {
                    span[position++] = '-';
                }

                var word = i < 16 ? bits.high : bits.low;
                span[position++] = hex[(int)((word >> (60 - (4 * (i % 16)))) & 0xF)];
            }
        });
    }
}

/// <summary>The last valid transactions, from which duplicates are re-sent.</summary>
internal sealed class RecentTransactions(int capacity)
{
    private readonly TransactionPosted[] _events = new TransactionPosted[capacity];
    private readonly long[] _ticks = new long[capacity];
    private int _count;
    private int _next;

    public void Add(TransactionPosted transaction, long ticks)
    {
        _events[_next] = transaction;
        _ticks[_next] = ticks;
        _next = (_next + 1) % capacity;
        _count = Math.Min(_count + 1, capacity);
    }

    /// <summary>One of the recent ones, no older than <paramref name="notBeforeTicks"/>; the newest if the pick is older.</summary>
    public bool TryPick(StreamRandom random, long notBeforeTicks, out TransactionPosted transaction)
    {
        transaction = null!;
        if (_count == 0)
        {
            return false;
        }

        var newest = (_next - 1 + capacity) % capacity;
        var index = (_next - 1 - random.NextInt(_count) + (2 * capacity)) % capacity;
        if (_ticks[index] < notBeforeTicks)
        {
            index = newest;
        }

        if (_ticks[index] < notBeforeTicks)
        {
            return false;
        }

        transaction = _events[index];
        return true;
    }
}
