using System.Text.Json.Serialization;

namespace BaloyiBank.Contracts;

/// <summary>A new customer of the bank (the batch world's customers.csv).</summary>
public sealed record CustomerRegistered : BankEvent
{
    public required string CustomerId { get; init; }
    public required string FirstName { get; init; }
    public required string LastName { get; init; }
    public required string Email { get; init; }
    public required DateOnly DateOfBirth { get; init; }
    public required CustomerSegment Segment { get; init; }
    public required string City { get; init; }
    /// <summary>ISO 3166-1 alpha-2.</summary>
    public required string Country { get; init; }

    [JsonIgnore]
    public override string PartitionKey => CustomerId;
}

/// <summary>
/// An account opened for a customer (accounts.csv). Keyed by account id, so it lands on the
/// same partition as, and before, every transaction of that account.
/// </summary>
public sealed record AccountOpened : BankEvent
{
    public required string AccountId { get; init; }
    public required string CustomerId { get; init; }
    public required AccountType AccountType { get; init; }
    /// <summary>ISO 4217 code.</summary>
    public required string Currency { get; init; }
    /// <summary>Two decimal places; may be zero.</summary>
    public required decimal OpeningBalance { get; init; }
    /// <summary>How far below zero the balance may go (zero for savings). Two decimal places.</summary>
    public required decimal OverdraftLimit { get; init; }
    public required string Branch { get; init; }

    [JsonIgnore]
    public override string PartitionKey => AccountId;
}

/// <summary>
/// A money movement on an account (transactions.csv). <see cref="Amount"/> is always a positive
/// magnitude with two decimal places; the direction comes from <see cref="TransactionType"/>
/// (see <see cref="TransactionTypes.IsCredit"/>), as with ISO 20022's credit/debit indicator.
/// The property is <c>transactionType</c> on the wire: <c>type</c> is the event discriminator.
/// </summary>
public sealed record TransactionPosted : BankEvent
{
    public required string TransactionId { get; init; }
    public required string AccountId { get; init; }
    public required string CustomerId { get; init; }
    public required TransactionType TransactionType { get; init; }
    public required decimal Amount { get; init; }
    /// <summary>ISO 4217 code; always the account's currency.</summary>
    public required string Currency { get; init; }
    public required Channel Channel { get; init; }
    /// <summary>Merchant category for card purchases (an MCC-style group), otherwise null.</summary>
    public MerchantCategory? MerchantCategory { get; init; }
    public string? MerchantName { get; init; }
    /// <summary>The other account of a transfer, or the loan id of a loan movement.</summary>
    public string? Counterparty { get; init; }
    /// <summary>A free reference (loan id for disbursements and repayments).</summary>
    public string? Reference { get; init; }
    public required GeoLocation Location { get; init; }

    [JsonIgnore]
    public override string PartitionKey => AccountId;
}

/// <summary>
/// A loan paid out to a customer's account (loans.csv). The money arrives on
/// <see cref="AccountId"/> as a separate <see cref="TransactionPosted"/> transfer_in whose
/// reference is the loan id: the loan ledger and the account ledger stay separate.
/// </summary>
public sealed record LoanDisbursed : BankEvent
{
    public required string LoanId { get; init; }
    public required string CustomerId { get; init; }
    public required string AccountId { get; init; }
    public required LoanProduct Product { get; init; }
    public required decimal Principal { get; init; }
    public required string Currency { get; init; }
    /// <summary>Nominal annual rate as a fraction, e.g. 0.1175 for 11.75 %.</summary>
    public required decimal AnnualInterestRate { get; init; }
    public required int TermMonths { get; init; }
    /// <summary>The fixed monthly instalment of the amortisation schedule.</summary>
    public required decimal MonthlyInstalment { get; init; }
    public required DateOnly FirstDueDate { get; init; }

    [JsonIgnore]
    public override string PartitionKey => AccountId;
}

/// <summary>
/// A loan instalment paid (loan_payments.csv), split into principal and interest. The debit
/// on <see cref="AccountId"/> is a separate <see cref="TransactionPosted"/> transfer_out.
/// </summary>
public sealed record LoanPaymentMade : BankEvent
{
    public required string PaymentId { get; init; }
    public required string LoanId { get; init; }
    public required string CustomerId { get; init; }
    public required string AccountId { get; init; }
    public required decimal Amount { get; init; }
    public required decimal PrincipalPortion { get; init; }
    public required decimal InterestPortion { get; init; }
    public required string Currency { get; init; }
    public required DateOnly DueDate { get; init; }
    public required int InstalmentNumber { get; init; }

    [JsonIgnore]
    public override string PartitionKey => AccountId;
}
