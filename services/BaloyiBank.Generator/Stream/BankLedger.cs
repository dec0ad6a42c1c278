using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

/// <summary>A simulated customer: where they live and what they earn each month (cents of the home currency).</summary>
internal sealed class Customer(string id, CustomerSegment segment, City home, CurrencyInfo homeCurrency, long monthlyIncomeCents)
{
    public string Id { get; } = id;
    public CustomerSegment Segment { get; } = segment;
    public City Home { get; } = home;
    public CurrencyInfo HomeCurrency { get; } = homeCurrency;
    public long MonthlyIncomeCents { get; } = monthlyIncomeCents;
    public List<Account> Accounts { get; } = [];
    public int ActiveLoans { get; set; }

    /// <summary>The first account, always a cheque or business account: salaries land here, loans are paid from here.</summary>
    public Account Primary => Accounts[0];

    /// <summary>How much more (or less) this customer spends than a retail customer.</summary>
    public double SpendFactor => Segment switch
    {
        CustomerSegment.Student => 0.5,
        CustomerSegment.Premier => 2.2,
        CustomerSegment.Business => 1.8,
        _ => 1.0,
    };
}

/// <summary>A simulated account and its running balance, which the simulation never lets fall below the overdraft.</summary>
internal sealed class Account(string id, Customer customer, AccountType type, CurrencyInfo currency, long overdraftCents, long openedTicks)
{
    public string Id { get; } = id;
    public Customer Customer { get; } = customer;
    public AccountType Type { get; } = type;
    public CurrencyInfo Currency { get; } = currency;
    public long OverdraftCents { get; } = overdraftCents;
    public long OpenedTicks { get; } = openedTicks;
    public long BalanceCents { get; set; }

    /// <summary>What a debit may take right now.</summary>
    public long AvailableCents => BalanceCents + OverdraftCents;
}

/// <summary>A simulated amortising loan and where its schedule stands.</summary>
internal sealed class Loan(string id, Account account, decimal monthlyRate, int termMonths, long instalmentCents, long principalCents, int dueDay)
{
    public string Id { get; } = id;
    public Account Account { get; } = account;
    public decimal MonthlyRate { get; } = monthlyRate;
    public int TermMonths { get; } = termMonths;
    public long InstalmentCents { get; } = instalmentCents;
    public long OutstandingCents { get; set; } = principalCents;
    public int DueDay { get; } = dueDay;
    public int NextInstalment { get; set; } = 1;
    public DateOnly NextDueDate { get; set; }

    /// <summary>The fixed instalment P·r / (1 − (1 + r)^−n), in decimal so it is exact and reproducible.</summary>
    public static long Instalment(long principalCents, decimal monthlyRate, int termMonths)
    {
        var principal = Money.FromCents(principalCents);
        if (monthlyRate == 0m)
        {
            return Money.ToCents(principal / termMonths);
        }

        var growth = 1m;
        var factor = 1m + monthlyRate;
        for (var i = 0; i < termMonths; i++)
        {
            growth *= factor;
        }

        return Money.ToCents(principal * monthlyRate * growth / (growth - 1m));
    }
}
