namespace BaloyiBank.Cleansing;

/// <summary>When a partition's micro-batch is written: at the first of a record, byte or age limit.</summary>
public sealed record FlushPolicy(int MaxRows, long MaxBytes, TimeSpan MaxAge)
{
    public static FlushPolicy From(CleansingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new FlushPolicy(options.FlushRows, options.FlushBytes, options.FlushAge);
    }

    /// <summary>Pure and monotone: once true, more records, bytes or age keep it true.</summary>
    public bool ShouldFlush(long rows, long bytes, TimeSpan age) => ShouldFlush(rows, bytes, age, TimeSpan.Zero);

    /// <summary>
    /// As above, with the age limit brought forward by <paramref name="lead"/>, the time the flush is expected to
    /// take, so that the oldest record is committed (visible), not merely taken, by <see cref="MaxAge"/>. The lead
    /// counts at most half the age limit, so batches never shrink below half of what the limit allows. Pure and
    /// monotone in rows, bytes, age and lead.
    /// </summary>
    public bool ShouldFlush(long rows, long bytes, TimeSpan age, TimeSpan lead) =>
        rows >= MaxRows || bytes >= MaxBytes || age + EffectiveLead(lead) >= MaxAge;

    /// <summary>The part of <paramref name="lead"/> that counts: between zero and half of <see cref="MaxAge"/>.</summary>
    public TimeSpan EffectiveLead(TimeSpan lead) =>
        lead <= TimeSpan.Zero ? TimeSpan.Zero : lead >= MaxAge / 2 ? MaxAge / 2 : lead;
}

/// <summary>
/// The outcomes of one partition over a contiguous offset range, on their way to one set of
/// silver, quarantine and duplicate-count entries (architecture invariants 2 and 5). Its file
/// stem comes from the range alone, so writing the same range again writes the same names.
/// Not thread-safe: one per partition owner.
/// </summary>
/// <param name="retainRows">
/// Keep the valid rows in the batch's lists (tests, small tools). The pipeline passes false: it appends each row
/// to DuckDB as it is cleansed and the batch only counts them, so no row object outlives its event.
/// </param>
public sealed class MicroBatch(int partition, DateTimeOffset openedAt, int maxQuarantinedPayloadBytes, bool retainRows = true)
{
    private readonly Dictionary<string, long> _quarantineByReason = new(StringComparer.Ordinal);
    private readonly List<TransactionRow> _transactions = [];
    private readonly List<CustomerRow> _customers = [];
    private readonly List<AccountRow> _accounts = [];
    private readonly List<LoanRow> _loans = [];
    private readonly List<LoanPaymentRow> _loanPayments = [];
    private readonly List<QuarantineRow> _quarantine = [];

    public int Partition { get; } = partition;

    /// <summary>When the batch took its first look at the log (the age limit counts from here).</summary>
    public DateTimeOffset OpenedAt { get; } = openedAt;

    /// <summary>Offset of the first record; -1 while empty.</summary>
    public long FirstOffset { get; private set; } = -1;

    /// <summary>Offset of the last record; -1 while empty.</summary>
    public long LastOffset { get; private set; } = -1;

    public long Consumed { get; private set; }
    public long Valid { get; private set; }
    public long Quarantined { get; private set; }
    public long Duplicates { get; private set; }

    /// <summary>Payload bytes consumed, whatever their outcome.</summary>
    public long PayloadBytes { get; private set; }

    /// <summary>The earliest and latest occurredAt among the valid rows (file statistics, lag metrics).</summary>
    public DateTimeOffset? MinEventTime { get; private set; }
    public DateTimeOffset? MaxEventTime { get; private set; }

    public bool IsEmpty => Consumed == 0;

    /// <summary>Valid rows per silver table (counted whether or not the rows are retained).</summary>
    public int TransactionCount { get; private set; }
    public int CustomerCount { get; private set; }
    public int AccountCount { get; private set; }
    public int LoanCount { get; private set; }
    public int LoanPaymentCount { get; private set; }

    public IReadOnlyDictionary<string, long> QuarantineByReason => _quarantineByReason;
    public IReadOnlyList<TransactionRow> Transactions => _transactions;
    public IReadOnlyList<CustomerRow> Customers => _customers;
    public IReadOnlyList<AccountRow> Accounts => _accounts;
    public IReadOnlyList<LoanRow> Loans => _loans;
    public IReadOnlyList<LoanPaymentRow> LoanPayments => _loanPayments;
    public IReadOnlyList<QuarantineRow> QuarantineRows => _quarantine;

    /// <summary>The name every data file of this batch starts with: <c>part-p0003-o000000001000-000000001999</c>.</summary>
    public string FileStem => IsEmpty
        ? throw new InvalidOperationException("An empty batch has no offset range and no files.")
        : $"part-p{Partition:D4}-o{FirstOffset:D12}-{LastOffset:D12}";

    /// <summary>Takes the next record of the partition and what the cleanser made of it.</summary>
    public void Add(in RawEvent raw, in CleansingOutcome outcome)
    {
        if (raw.Partition != Partition)
        {
            throw new ArgumentException($"A record of partition {raw.Partition} cannot join a batch of partition {Partition}.", nameof(raw));
        }

        if (raw.Offset <= LastOffset)
        {
            throw new ArgumentException($"Offset {raw.Offset} does not follow {LastOffset}: a batch covers a contiguous, growing range.", nameof(raw));
        }

        switch (outcome.Kind)
        {
            case OutcomeKind.Valid:
                AddRow(outcome.Row!);
                Valid++;
                break;
            case OutcomeKind.Quarantined:
                _quarantine.Add(QuarantineRow.From(in raw, in outcome, maxQuarantinedPayloadBytes));
                _quarantineByReason[outcome.Reason!] = _quarantineByReason.GetValueOrDefault(outcome.Reason!) + 1;
                Quarantined++;
                break;
            case OutcomeKind.Duplicate:
                Duplicates++;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(outcome), outcome.Kind, "Unknown outcome.");
        }

        if (FirstOffset < 0)
        {
            FirstOffset = raw.Offset;
        }

        LastOffset = raw.Offset;
        Consumed++;
        PayloadBytes += raw.Payload.Length;
    }

    /// <summary>Whether <paramref name="policy"/> says to write this batch now.</summary>
    public bool ShouldFlush(FlushPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return !IsEmpty && policy.ShouldFlush(Consumed, PayloadBytes, now - OpenedAt);
    }

    private void Retain<T>(List<T> rows, T row)
    {
        if (retainRows)
        {
            rows.Add(row);
        }
    }

    private void AddRow(SilverRow row)
    {
        switch (row)
        {
            case TransactionRow transaction:
                TransactionCount++;
                Retain(_transactions, transaction);
                break;
            case CustomerRow customer:
                CustomerCount++;
                Retain(_customers, customer);
                break;
            case AccountRow account:
                AccountCount++;
                Retain(_accounts, account);
                break;
            case LoanRow loan:
                LoanCount++;
                Retain(_loans, loan);
                break;
            case LoanPaymentRow payment:
                LoanPaymentCount++;
                Retain(_loanPayments, payment);
                break;
            default:
                throw new ArgumentException($"No silver table takes a {row.GetType().Name}.", nameof(row));
        }

        if (MinEventTime is not { } min || row.OccurredAt < min)
        {
            MinEventTime = row.OccurredAt;
        }

        if (MaxEventTime is not { } max || row.OccurredAt > max)
        {
            MaxEventTime = row.OccurredAt;
        }
    }
}
