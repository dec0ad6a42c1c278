using System.Text;
using BaloyiBank.Contracts;

namespace BaloyiBank.Cleansing;

/// <summary>Every property name the wire events use, across all types (each name has one meaning and one JSON type everywhere).</summary>
internal enum Field : byte
{
    Type, SchemaVersion, EventId, OccurredAt,
    CustomerId, FirstName, LastName, Email, DateOfBirth, Segment, City, Country,
    AccountId, AccountType, Currency, OpeningBalance, OverdraftLimit, Branch,
    TransactionId, TransactionType, Amount, Channel, MerchantCategory, MerchantName, Counterparty, Reference, Location,
    LoanId, Product, Principal, AnnualInterestRate, TermMonths, MonthlyInstalment, FirstDueDate,
    PaymentId, PrincipalPortion, InterestPortion, DueDate, InstalmentNumber,
    Latitude, Longitude,
    Unknown = 63,
}

internal enum WireEventType : byte
{
    CustomerRegistered,
    AccountOpened,
    TransactionPosted,
    LoanDisbursed,
    LoanPaymentMade,
}

/// <summary>One event type's properties: which it reads and which it requires (bit per <see cref="Field"/>).</summary>
internal sealed class EventShape(WireEventType type, string name, ulong allowed, ulong required, Field[] order)
{
    public WireEventType Type { get; } = type;
    public string Name { get; } = name;
    public ulong Allowed { get; } = allowed;
    public ulong Required { get; } = required;

    /// <summary>The order the contract's serializer writes the properties in: the parser's first guess for each name.</summary>
    public Field[] Order { get; } = order;
}

internal static class WireShapes
{
    private static readonly string[] FieldNames =
    [
        "type", "schemaVersion", "eventId", "occurredAt",
        "customerId", "firstName", "lastName", "email", "dateOfBirth", "segment", "city", "country",
        "accountId", "accountType", "currency", "openingBalance", "overdraftLimit", "branch",
        "transactionId", "transactionType", "amount", "channel", "merchantCategory", "merchantName", "counterparty", "reference", "location",
        "loanId", "product", "principal", "annualInterestRate", "termMonths", "monthlyInstalment", "firstDueDate",
        "paymentId", "principalPortion", "interestPortion", "dueDate", "instalmentNumber",
        "latitude", "longitude",
    ];

    private static readonly byte[][] FieldUtf8 = [.. FieldNames.Select(Encoding.UTF8.GetBytes)];

    // Candidates by name length: a lookup compares one or two names.
    private static readonly Field[][] ByLength = BuildByLength();

    private static readonly ulong Common = Bits(Field.Type, Field.SchemaVersion, Field.EventId, Field.OccurredAt);

    public static readonly EventShape CustomerRegistered = Shape(WireEventType.CustomerRegistered, EventTypes.CustomerRegistered,
        optional: [],
        Field.CustomerId, Field.FirstName, Field.LastName, Field.Email, Field.DateOfBirth, Field.Segment, Field.City, Field.Country);

    public static readonly EventShape AccountOpened = Shape(WireEventType.AccountOpened, EventTypes.AccountOpened,
        optional: [],
        Field.AccountId, Field.CustomerId, Field.AccountType, Field.Currency, Field.OpeningBalance, Field.OverdraftLimit, Field.Branch);

    public static readonly EventShape TransactionPosted = Shape(WireEventType.TransactionPosted, EventTypes.TransactionPosted,
        optional: [Field.MerchantCategory, Field.MerchantName, Field.Counterparty, Field.Reference],
        Field.TransactionId, Field.AccountId, Field.CustomerId, Field.TransactionType, Field.Amount, Field.Currency, Field.Channel, Field.Location);

    public static readonly EventShape LoanDisbursed = Shape(WireEventType.LoanDisbursed, EventTypes.LoanDisbursed,
        optional: [],
        Field.LoanId, Field.CustomerId, Field.AccountId, Field.Product, Field.Principal, Field.Currency,
        Field.AnnualInterestRate, Field.TermMonths, Field.MonthlyInstalment, Field.FirstDueDate);

    public static readonly EventShape LoanPaymentMade = Shape(WireEventType.LoanPaymentMade, EventTypes.LoanPaymentMade,
        optional: [],
        Field.PaymentId, Field.LoanId, Field.CustomerId, Field.AccountId, Field.Amount, Field.PrincipalPortion,
        Field.InterestPortion, Field.Currency, Field.DueDate, Field.InstalmentNumber);

    /// <summary>The members of <c>location</c>, all required.</summary>
    public static readonly ulong LocationFields = Bits(Field.City, Field.Country, Field.Latitude, Field.Longitude);

    public static ulong Bit(Field field) => 1UL << (int)field;

    public static string NameOf(Field field) => FieldNames[(int)field];

    /// <summary>The shape of a known <c>type</c>, or null.</summary>
    public static EventShape? ShapeOf(ReadOnlySpan<byte> type) =>
        type.SequenceEqual("transaction.posted"u8) ? TransactionPosted
        : type.SequenceEqual("account.opened"u8) ? AccountOpened
        : type.SequenceEqual("customer.registered"u8) ? CustomerRegistered
        : type.SequenceEqual("loan.disbursed"u8) ? LoanDisbursed
        : type.SequenceEqual("loan.payment_made"u8) ? LoanPaymentMade
        : null;

    public static Field FieldOf(ReadOnlySpan<byte> name)
    {
        if (name.Length >= ByLength.Length)
        {
            return Field.Unknown;
        }

        foreach (var field in ByLength[name.Length])
        {
            if (name.SequenceEqual(FieldUtf8[(int)field]))
            {
                return field;
            }
        }

        return Field.Unknown;
    }

    /// <summary>The first field (in declaration order) of a mask, for naming a missing one.</summary>
    public static Field First(ulong mask) => (Field)ulong.TrailingZeroCount(mask);

    /// <summary>True when <paramref name="name"/> is the wire name of <paramref name="field"/>.</summary>
    public static bool Is(Field field, ReadOnlySpan<byte> name) => name.SequenceEqual(FieldUtf8[(int)field]);

    private static EventShape Shape(WireEventType type, string name, Field[] optional, params Field[] required)
    {
        var requiredBits = Common | Bits(required);
        // Wire order: the base record's properties first, then the type's in declaration order
        // (the optional transaction fields sit between channel and location).
        Field[] order = [Field.Type, Field.SchemaVersion, Field.EventId, Field.OccurredAt,
            .. required.TakeWhile(f => f != Field.Location), .. optional, .. required.SkipWhile(f => f != Field.Location)];
        return new EventShape(type, name, requiredBits | Bits(optional), requiredBits, order);
    }

    private static ulong Bits(params Field[] fields) => fields.Aggregate(0UL, (bits, field) => bits | Bit(field));

    private static Field[][] BuildByLength()
    {
        var longest = FieldNames.Max(name => name.Length);
        return [.. Enumerable.Range(0, longest + 1).Select(length =>
            Enumerable.Range(0, FieldNames.Length).Where(i => FieldNames[i].Length == length).Select(i => (Field)i).ToArray())];
    }
}
