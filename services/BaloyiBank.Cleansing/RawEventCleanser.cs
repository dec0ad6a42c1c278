using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using BaloyiBank.Contracts;
using static BaloyiBank.Cleansing.QuarantineReasons;

namespace BaloyiBank.Cleansing;

/// <summary>
/// Turns one raw event into a silver row, a quarantine verdict or a duplicate, in one pass of a
/// <see cref="Utf8JsonReader"/> over the payload bytes (no DOM, no serializer). Stateless and
/// thread-safe: the per-partition memory (accounts, dedup window, watermark) is the
/// <see cref="PartitionState"/> passed in, which one partition owner uses at a time.
/// The rules, and why each is as it is, are in this folder's README.
/// </summary>
public sealed partial class RawEventCleanser
{
    private const int MaxIdLength = 64;
    private const int MaxTextLength = 256;
    private const int RateScale = 6;
    private const int MoneyScale = 2;

    private static readonly WireEnum Segments = WireEnum.Of<CustomerSegment>();
    private static readonly WireEnum AccountTypes = WireEnum.Of<AccountType>();
    private static readonly WireEnum TransactionTypeNames = WireEnum.Of<TransactionType>();
    private static readonly WireEnum Channels = WireEnum.Of<Channel>();
    private static readonly WireEnum Products = WireEnum.Of<LoanProduct>();
    private static readonly WireEnum MerchantCategories = WireEnum.Of<MerchantCategory>();
    private static readonly bool[] IsCreditType = [.. Enum.GetValues<TransactionType>().Select(TransactionTypes.IsCredit)];
    private static readonly string[] CountryCodes = BuildCountryCodes();

    private readonly CleansingOptions _options;
    private readonly JsonReaderOptions _readerOptions;

    public RawEventCleanser(CleansingOptions? options = null)
    {
        _options = options ?? new CleansingOptions();
        // The reader's own limit sits one level above ours so that ours reports (nesting_too_deep)
        // and the reader's is only a backstop.
        _readerOptions = new JsonReaderOptions { MaxDepth = _options.MaxNestingDepth + 1 };
    }

    public CleansingOptions Options => _options;

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    public CleansingOutcome Process(in RawEvent raw, PartitionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (raw.Partition != state.Partition)
        {
            throw new ArgumentException($"An event of partition {raw.Partition} was given the state of partition {state.Partition}.", nameof(state));
        }

        var payload = raw.Payload;
        if (payload.Length > _options.MaxPayloadBytes)
        {
            return CleansingOutcome.Quarantined(PayloadTooLarge,
                $"The payload has {payload.Length} bytes; at most {_options.MaxPayloadBytes} are accepted (Cleansing:MaxPayloadBytes).", null);
        }

        if (payload.IsEmpty)
        {
            return CleansingOutcome.Quarantined(MalformedJson, "The payload is empty.", null);
        }

        if (payload.StartsWith(Utf8Bom))
        {
            // RFC 8259 forbids producers to write one; accepting it would hide a broken producer.
            return CleansingOutcome.Quarantined(MalformedJson, "The payload starts with a UTF-8 byte order mark.", null);
        }

        if (!Utf8.IsValid(payload))
        {
            return CleansingOutcome.Quarantined(InvalidUtf8, $"The payload is not valid UTF-8 (first bad byte at offset {FirstInvalidUtf8(payload)}).", null);
        }

        var context = new EventContext(state, _options.MaxNestingDepth);
        try
        {
            var reader = new Utf8JsonReader(payload, _readerOptions);
            ReadEvent(ref reader, ref context);
        }
        catch (JsonException exception)
        {
            // Well-formedness outranks every other fault: a value rule broken before the break is moot.
            return CleansingOutcome.Quarantined(MalformedJson, exception.Message, context.Shape?.Name);
        }

        if (context.Reason is not null)
        {
            return CleansingOutcome.Quarantined(context.Reason, context.Detail!, context.Shape?.Name);
        }

        var missing = context.Shape!.Required & ~context.Seen;
        if (missing != 0)
        {
            return CleansingOutcome.Quarantined(MissingField,
                $"{context.Shape.Name} has no {WireShapes.NameOf(WireShapes.First(missing))}.", context.Shape.Name);
        }

        return Conclude(in raw, ref context, state);
    }

    /// <summary>The cross-field and stateful rules, then the row.</summary>
    private CleansingOutcome Conclude(in RawEvent raw, ref EventContext c, PartitionState state)
    {
        var shape = c.Shape!;
        ref var e = ref c.Values;
        if (shape.Type is WireEventType.TransactionPosted or WireEventType.LoanDisbursed or WireEventType.LoanPaymentMade)
        {
            if (e.AccountCurrency is null)
            {
                return CleansingOutcome.Quarantined(UnknownAccount,
                    $"Account {e.AccountId} has not been opened on partition {state.Partition}.", shape.Name);
            }

            if (!string.Equals(e.Currency, e.AccountCurrency, StringComparison.Ordinal))
            {
                return CleansingOutcome.Quarantined(CurrencyMismatch,
                    $"currency {e.Currency} differs from account {e.AccountId}'s currency {e.AccountCurrency}.", shape.Name);
            }
        }

        if (shape.Type == WireEventType.AccountOpened && e.AccountCurrency is not null)
        {
            // Reference data is never overwritten by a later event: the first opening stands.
            return CleansingOutcome.Quarantined(DuplicateAccount,
                $"Account {e.AccountId} was already opened on partition {state.Partition}.", shape.Name);
        }

        if (shape.Type == WireEventType.LoanPaymentMade && e.PrincipalPortion + e.InterestPortion != e.Amount)
        {
            return CleansingOutcome.Quarantined(InvalidValue,
                $"principalPortion + interestPortion ({WireValues.ToDecimal(e.PrincipalPortion + e.InterestPortion, MoneyScale)}) differs from amount ({WireValues.ToDecimal(e.Amount, MoneyScale)}).",
                shape.Name);
        }

        if (FutureProblem(e.OccurredAt, raw.EnqueuedAt, state) is { } problem)
        {
            return CleansingOutcome.Quarantined(FutureTimestamp, problem, shape.Name);
        }

        if (shape.Type == WireEventType.TransactionPosted && !state.Transactions.TryAdmit(e.TransactionId!, e.OccurredAt))
        {
            return CleansingOutcome.Duplicate(e.TransactionId!);
        }

        if (shape.Type == WireEventType.AccountOpened)
        {
            state.RememberAccount(e.AccountId!, e.Currency!);
        }

        state.Observe(e.OccurredAt, raw.EnqueuedAt);
        return CleansingOutcome.Valid(BuildRow(in raw, ref e, shape.Type));
    }

    /// <summary>
    /// The future rule (see README): occurredAt may lie at most FutureTolerance beyond the
    /// record's enqueue time, and at most WatermarkTolerance beyond the partition's watermark plus
    /// the log time that passed since the watermark's event was enqueued. The first rule guards
    /// live traffic against skewed producer clocks; the second catches facts from the future in
    /// replays and simulated streams, whose event time is far behind the wall clock.
    /// </summary>
    private string? FutureProblem(DateTimeOffset occurredAt, DateTimeOffset enqueuedAt, PartitionState state)
    {
        if (occurredAt - enqueuedAt > _options.FutureTolerance)
        {
            return $"occurredAt {occurredAt:O} is {occurredAt - enqueuedAt} after the event was enqueued ({enqueuedAt:O}); at most {_options.FutureTolerance} is tolerated.";
        }

        if (state.Watermark is { } watermark && state.WatermarkEnqueuedAt is { } anchor)
        {
            var elapsed = enqueuedAt > anchor ? enqueuedAt - anchor : TimeSpan.Zero;
            if (occurredAt - watermark > _options.WatermarkTolerance + elapsed)
            {
                return $"occurredAt {occurredAt:O} is {occurredAt - watermark} ahead of partition {state.Partition}'s event-time watermark {watermark:O}; at most {_options.WatermarkTolerance} plus {elapsed} of log time is tolerated.";
            }
        }

        return null;
    }

    private static SilverRow BuildRow(in RawEvent raw, ref ParsedValues e, WireEventType type)
    {
        var eventDate = DateOnly.FromDateTime(e.OccurredAt.UtcDateTime);
        switch (type)
        {
            case WireEventType.TransactionPosted:
                var credit = IsCreditType[e.TransactionType];
                var amount = WireValues.ToDecimal(e.Amount, MoneyScale);
                return new TransactionRow
                {
                    TransactionId = e.TransactionId!,
                    EventId = e.EventId!,
                    AccountId = e.AccountId!,
                    CustomerId = e.CustomerId!,
                    TransactionType = TransactionTypeNames.Names[e.TransactionType],
                    Direction = credit ? "credit" : "debit",
                    Amount = amount,
                    SignedAmount = credit ? amount : -amount,
                    Currency = e.Currency!,
                    Channel = Channels.Names[e.Channel],
                    MerchantCategory = e.MerchantCategory < 0 ? null : MerchantCategories.Names[e.MerchantCategory],
                    MerchantName = e.MerchantName,
                    Counterparty = e.Counterparty,
                    Reference = e.Reference,
                    City = e.LocationCity!,
                    Country = e.LocationCountry!,
                    Latitude = e.Latitude,
                    Longitude = e.Longitude,
                    OccurredAt = e.OccurredAt,
                    EventDate = eventDate,
                    SourcePartition = raw.Partition,
                    SourceOffset = raw.Offset,
                    EnqueuedAt = raw.EnqueuedAt,
                    IngestedAt = raw.IngestedAt,
                    SchemaVersion = e.SchemaVersion,
                };
            case WireEventType.CustomerRegistered:
                return new CustomerRow
                {
                    CustomerId = e.CustomerId!,
                    EventId = e.EventId!,
                    FirstName = e.FirstName!,
                    LastName = e.LastName!,
                    Email = e.Email!,
                    DateOfBirth = e.DateOfBirth,
                    Segment = Segments.Names[e.Segment],
                    City = e.City!,
                    Country = e.Country!,
                    OccurredAt = e.OccurredAt,
                    SourcePartition = raw.Partition,
                    SourceOffset = raw.Offset,
                    EnqueuedAt = raw.EnqueuedAt,
                    IngestedAt = raw.IngestedAt,
                    SchemaVersion = e.SchemaVersion,
                };
            case WireEventType.AccountOpened:
                return new AccountRow
                {
                    AccountId = e.AccountId!,
                    EventId = e.EventId!,
                    CustomerId = e.CustomerId!,
                    AccountType = AccountTypes.Names[e.AccountType],
                    Currency = e.Currency!,
                    OpeningBalance = WireValues.ToDecimal(e.OpeningBalance, MoneyScale),
                    OverdraftLimit = WireValues.ToDecimal(e.OverdraftLimit, MoneyScale),
                    Branch = e.Branch!,
                    OccurredAt = e.OccurredAt,
                    SourcePartition = raw.Partition,
                    SourceOffset = raw.Offset,
                    EnqueuedAt = raw.EnqueuedAt,
                    IngestedAt = raw.IngestedAt,
                    SchemaVersion = e.SchemaVersion,
                };
            case WireEventType.LoanDisbursed:
                return new LoanRow
                {
                    LoanId = e.LoanId!,
                    EventId = e.EventId!,
                    CustomerId = e.CustomerId!,
                    AccountId = e.AccountId!,
                    Product = Products.Names[e.Product],
                    Principal = WireValues.ToDecimal(e.Principal, MoneyScale),
                    Currency = e.Currency!,
                    AnnualInterestRate = WireValues.ToDecimal(e.AnnualInterestRate, RateScale),
                    TermMonths = e.TermMonths,
                    MonthlyInstalment = WireValues.ToDecimal(e.MonthlyInstalment, MoneyScale),
                    FirstDueDate = e.FirstDueDate,
                    OccurredAt = e.OccurredAt,
                    SourcePartition = raw.Partition,
                    SourceOffset = raw.Offset,
                    EnqueuedAt = raw.EnqueuedAt,
                    IngestedAt = raw.IngestedAt,
                    SchemaVersion = e.SchemaVersion,
                };
            default:
                return new LoanPaymentRow
                {
                    PaymentId = e.PaymentId!,
                    EventId = e.EventId!,
                    LoanId = e.LoanId!,
                    CustomerId = e.CustomerId!,
                    AccountId = e.AccountId!,
                    Amount = WireValues.ToDecimal(e.Amount, MoneyScale),
                    PrincipalPortion = WireValues.ToDecimal(e.PrincipalPortion, MoneyScale),
                    InterestPortion = WireValues.ToDecimal(e.InterestPortion, MoneyScale),
                    Currency = e.Currency!,
                    DueDate = e.DueDate,
                    InstalmentNumber = e.InstalmentNumber,
                    OccurredAt = e.OccurredAt,
                    EventDate = eventDate,
                    SourcePartition = raw.Partition,
                    SourceOffset = raw.Offset,
                    EnqueuedAt = raw.EnqueuedAt,
                    IngestedAt = raw.IngestedAt,
                    SchemaVersion = e.SchemaVersion,
                };
        }
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> payload)
    {
        var offset = 0;
        while (offset < payload.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(payload[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return offset;
    }

    private static string[] BuildCountryCodes()
    {
        var codes = new string[26 * 26];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = string.Concat((char)('A' + (i / 26)), (char)('A' + (i % 26)));
        }

        return codes;
    }

    /// <summary>What one event's parse has found so far: its shape, its values and its first fault.</summary>
    private struct EventContext
    {
        public readonly PartitionState State;
        public readonly int MaxNestingDepth;
        public EventShape? Shape;
        public ulong Seen;
        public string? Reason;
        public string? Detail;
        /// <summary>Set by a fault that stops the parse (nesting too deep): the rest is not read.</summary>
        public bool Abort;
        public List<string>? UnknownNames;
        /// <summary>Index into the shape's wire order of the property expected next.</summary>
        public int NextGuess;
        public ParsedValues Values;

        public EventContext(PartitionState state, int maxNestingDepth)
        {
            // The other fields start zeroed; copying a prepared ParsedValues in instead (it holds references) cost a
            // write-barriered block copy per event, a sixth of the parse.
            State = state;
            MaxNestingDepth = maxNestingDepth;
            Values.MerchantCategory = -1;
        }

        /// <summary>Records a fault; the first one wins, and parsing goes on to check well-formedness.</summary>
        public void Fail(string reason, string detail)
        {
            if (Reason is null)
            {
                Reason = reason;
                Detail = detail;
            }
        }
    }

    /// <summary>The union of every event type's values, as parsed and normalized.</summary>
    private struct ParsedValues
    {
        public int SchemaVersion;
        public string? EventId;
        public DateTimeOffset OccurredAt;
        public string? CustomerId;
        public string? FirstName;
        public string? LastName;
        public string? Email;
        public DateOnly DateOfBirth;
        public int Segment;
        public string? City;
        public string? Country;
        public string? AccountId;
        /// <summary>The currency of <see cref="AccountId"/> when the partition knows the account; null otherwise.</summary>
        public string? AccountCurrency;
        public int AccountType;
        public string? Currency;
        public long OpeningBalance;
        public long OverdraftLimit;
        public string? Branch;
        public string? TransactionId;
        public int TransactionType;
        public long Amount;
        public int Channel;
        public int MerchantCategory;
        public string? MerchantName;
        public string? Counterparty;
        public string? Reference;
        public string? LocationCity;
        public string? LocationCountry;
        public double Latitude;
        public double Longitude;
        public string? LoanId;
        public int Product;
        public long Principal;
        public long AnnualInterestRate;
        public int TermMonths;
        public long MonthlyInstalment;
        public DateOnly FirstDueDate;
        public string? PaymentId;
        public long PrincipalPortion;
        public long InterestPortion;
        public DateOnly DueDate;
        public int InstalmentNumber;
        /// <summary>Which members of <c>location</c> were read.</summary>
        public ulong LocationSeen;
    }

    private static string Printable(ReadOnlySpan<byte> utf8)
    {
        // Details quote a value, never a whole payload.
        var cut = utf8.Length <= 40 ? utf8 : utf8[..40];
        var text = Encoding.UTF8.GetString(cut);
        return utf8.Length <= 40 ? text : text + "…";
    }
}
