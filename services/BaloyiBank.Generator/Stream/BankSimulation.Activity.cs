using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

// Everyday customer behaviour: purchases, cash, deposits, transfers, and the trickle of new
// customers, accounts and loans. Debits never take an account past its overdraft: they are
// reduced to what is available or replaced by a deposit.
internal sealed partial class BankSimulation
{
    private const double NewCustomerChance = 0.000_15;
    private const double NewAccountChance = 0.000_10;
    private const double NewLoanChance = 0.000_10;

    private static readonly WeightedTable<Channel> PurchaseChannels = WeightedTable.Of((Channel.Card, 70.0), (Channel.Online, 18.0), (Channel.Mobile, 12.0));
    private static readonly WeightedTable<Channel> DepositChannels = WeightedTable.Of((Channel.Online, 40.0), (Channel.Atm, 35.0), (Channel.Branch, 25.0));
    private static readonly WeightedTable<int> CashAmountsZar = WeightedTable.Of(
        (100, 10.0), (200, 18.0), (300, 12.0), (500, 20.0), (800, 8.0), (1_000, 15.0), (1_500, 6.0), (2_000, 7.0), (3_000, 4.0));

    private static readonly string[] TransferReferences =
    [
        "Rent", "Stokvel", "School fees", "Family support", "Groceries", "Invoice", "Birthday gift", "Loan repayment",
        "Taxi fare", "Lobola", "Church tithe", "Burial society", "Electricity", "Savings",
    ];

    private void CustomerActivity()
    {
        var roll = _random.NextDouble();
        if (roll < NewCustomerChance)
        {
            RegisterCustomer(bootstrap: false);
            return;
        }

        if (roll < NewCustomerChance + NewAccountChance)
        {
            OpenExtraAccount(_random.Pick(_customers), bootstrap: false);
            return;
        }

        if (roll < NewCustomerChance + NewAccountChance + NewLoanChance)
        {
            var applicant = _random.Pick(_customers);
            if (applicant.Segment != CustomerSegment.Student && applicant.ActiveLoans < 2)
            {
                var firstDue = LocalToday.AddMonths(1);
                DisburseLoan(applicant, firstDue);
                return;
            }
        }

        // Savings accounts see far less day-to-day activity than transactional ones.
        var account = _random.Pick(_accounts);
        while (account.Type == AccountType.Savings && !_random.Chance(0.35))
        {
            account = _random.Pick(_accounts);
        }

        // People short of money top up (side income, family, a card payment) before they are declined.
        if (account.Type != AccountType.Savings && account.AvailableCents < ComfortCents(account) && _random.Chance(0.6))
        {
            TopUp(account);
            return;
        }

        var action = _random.NextDouble();
        switch (account.Type)
        {
            case AccountType.CreditCard:
                CardPurchase(account);
                break;
            case AccountType.Savings:
                if (action < 0.45)
                {
                    Deposit(account);
                }
                else if (action < 0.85)
                {
                    OwnTransfer(account, account.Customer.Primary, 800);
                }
                else
                {
                    Withdrawal(account);
                }

                break;
            case AccountType.Business:
                if (action < 0.38)
                {
                    CardPurchase(account);
                }
                else if (action < 0.68)
                {
                    Deposit(account);
                }
                else if (action < 0.95)
                {
                    TransferToAnotherCustomer(account, 6_000);
                }
                else
                {
                    Withdrawal(account);
                }

                break;
            default:
                if (action < 0.64)
                {
                    CardPurchase(account);
                }
                else if (action < 0.74)
                {
                    Withdrawal(account);
                }
                else if (action < 0.83)
                {
                    TransferToAnotherCustomer(account, 800);
                }
                else if (action < 0.90)
                {
                    Deposit(account);
                }
                else if (action < 0.95 && SavingsOf(account) is { } savings)
                {
                    OwnTransfer(account, savings, 1_000);
                }
                else
                {
                    CardPurchase(account);
                }

                break;
        }
    }

    /// <summary>Below this much available, a customer tends to bring money in before spending more.</summary>
    private static long ComfortCents(Account account) => account.Type == AccountType.CreditCard
        ? account.OverdraftCents * 3 / 10
        : account.Currency.FromZarCents(2_000 * 100 * account.Customer.SpendFactor);

    private void TopUp(Account account)
    {
        if (account.Type == AccountType.CreditCard && account.BalanceCents < 0)
        {
            var primary = account.Customer.Primary;
            var owed = -account.BalanceCents;
            var payment = Math.Min((long)(owed * _random.Uniform(0.3, 1.0)), primary.BalanceCents);
            if (primary.Currency == account.Currency && payment >= 10_000)
            {
                PostTransfer(primary, account, payment, _random.Chance(0.6) ? Channel.Mobile : Channel.Online, "CARD PAYMENT");
                return;
            }
        }

        Deposit(account);
    }

    private void CardPurchase(Account account)
    {
        var group = Merchants.ByFrequency.Pick(_random);
        var zarCents = Math.Clamp(_random.LogNormal(group.MedianZar, group.Sigma) * account.Customer.SpendFactor * 100, 100, 25_000_000);
        var cents = Math.Max(100, account.Currency.FromZarCents(zarCents));
        var location = SpendingLocation(account);
        var channel = PurchaseChannels.Pick(_random);
        var merchant = _random.Pick(group.Merchants);
        if (FitDebit(account, cents) is not { } fitted)
        {
            Deposit(account);
            return;
        }

        PostTransaction(account, TransactionType.CardPurchase, fitted, channel, location, group.Category, merchant);
    }

    private void Withdrawal(Account account)
    {
        var channel = _random.Chance(0.88) ? Channel.Atm : Channel.Branch;
        var location = SpendingLocation(account);
        // Notes: multiples of R50 at home, of ten units in other currencies.
        var unit = account.Currency == Currencies.Zar || account.Currency == Currencies.Nad ? 5_000 : 1_000;
        var cents = Math.Max(unit, account.Currency.FromZarCents(CashAmountsZar.Pick(_random) * account.Customer.SpendFactor * 100) / unit * unit);
        if (FitDebit(account, cents) is not { } fitted || fitted / unit * unit < unit)
        {
            Deposit(account);
            return;
        }

        PostTransaction(account, TransactionType.Withdrawal, fitted / unit * unit, channel, location);
    }

    private void Deposit(Account account)
    {
        var medianZar = account.Type == AccountType.Business ? 8_000 : 1_500 * account.Customer.SpendFactor;
        var cents = Math.Max(100, account.Currency.FromZarCents(_random.LogNormal(medianZar, 0.9) * 100));
        var channel = DepositChannels.Pick(_random);
        PostTransaction(account, TransactionType.Deposit, cents, channel, HomeLocation(account.Customer));
    }

    private void TransferToAnotherCustomer(Account source, double medianZar)
    {
        if (!_transferTargets.TryGetValue(source.Currency.Code, out var targets))
        {
            CardPurchase(source);
            return;
        }

        for (var attempt = 0; attempt < 3; attempt++)
        {
            var target = _random.Pick(targets);
            if (target.Customer != source.Customer)
            {
                var cents = Math.Max(100, source.Currency.FromZarCents(_random.LogNormal(medianZar, 1.0) * source.Customer.SpendFactor * 100));
                if (FitDebit(source, cents) is not { } fitted)
                {
                    Deposit(source);
                    return;
                }

                PostTransfer(source, target, fitted, _random.Chance(0.55) ? Channel.Mobile : Channel.Online, _random.Pick(TransferReferences));
                return;
            }
        }

        CardPurchase(source);
    }

    private void OwnTransfer(Account source, Account target, double medianZar)
    {
        if (source == target || source.Currency != target.Currency)
        {
            Deposit(source);
            return;
        }

        var cents = Math.Max(100, source.Currency.FromZarCents(_random.LogNormal(medianZar, 0.9) * 100));
        if (FitDebit(source, cents) is not { } fitted)
        {
            Deposit(source);
            return;
        }

        PostTransfer(source, target, fitted, _random.Chance(0.6) ? Channel.Mobile : Channel.Online, "Own transfer");
    }

    /// <summary>A transfer between two accounts of one currency: transfer_out then transfer_in, each naming the other.</summary>
    private void PostTransfer(Account source, Account target, long cents, Channel channel, string reference)
    {
        PostTransaction(source, TransactionType.TransferOut, cents, channel, HomeLocation(source.Customer), counterparty: target.Id, reference: reference);
        PostTransaction(target, TransactionType.TransferIn, cents, channel, target.Customer.Home.Centre, counterparty: source.Id, reference: reference);
    }

    /// <summary>The debit that fits: all of it, part of what is available, or null (replace it) when too little is left.</summary>
    private long? FitDebit(Account account, long cents)
    {
        var available = account.AvailableCents;
        if (cents <= available)
        {
            return cents;
        }

        if (available < 1_000)
        {
            ReplacedDebits++;
            return null;
        }

        ReducedDebits++;
        return Math.Max(1_000, (long)(available * _random.Uniform(0.5, 1.0)));
    }

    /// <summary>Debits cut to what the account could bear (a plausibility gauge for tests and tuning).</summary>
    public long ReducedDebits { get; private set; }

    /// <summary>Debits replaced by a deposit because the account had next to nothing left.</summary>
    public long ReplacedDebits { get; private set; }

    private static Account? SavingsOf(Account account)
    {
        foreach (var candidate in account.Customer.Accounts)
        {
            if (candidate.Type == AccountType.Savings && candidate.Currency == account.Currency)
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Mostly the home city, sometimes elsewhere in South Africa, occasionally abroad (more so for foreign-currency accounts).</summary>
    private GeoLocation SpendingLocation(Account account)
    {
        var roll = _random.NextDouble();
        var abroadChance = account.Currency == account.Customer.HomeCurrency ? 0.02 : 0.30;
        if (roll < abroadChance)
        {
            return Jitter(Places.AbroadCity.Pick(_random));
        }

        if (roll < abroadChance + 0.09)
        {
            return Jitter(Places.SouthAfricanCity.Pick(_random));
        }

        return HomeLocation(account.Customer);
    }

    private GeoLocation HomeLocation(Customer customer) => Jitter(customer.Home);

    /// <summary>A point within a few kilometres of the city centre, to the micro-degree.</summary>
    private GeoLocation Jitter(City city) => new(
        city.Name,
        city.Country,
        (city.LatitudeMicro + _random.NextInt(-40_000, 40_001)) / 1e6,
        (city.LongitudeMicro + _random.NextInt(-40_000, 40_001)) / 1e6);
}
