using System.Globalization;
using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

internal enum IdKind { Customer, Account, Loan, Transaction, Payment }

// Customers, accounts and loans: who the bank serves and how they join.
internal sealed partial class BankSimulation
{
    private readonly List<Customer> _customers = [];
    private readonly List<Account> _accounts = [];
    // Accounts a transfer may pay into (cheque, savings, business), per currency.
    private readonly Dictionary<string, List<Account>> _transferTargets = new(StringComparer.Ordinal);
    private readonly long[] _idCounters = new long[5];

    private static readonly WeightedTable<CustomerSegment> Segments = WeightedTable.Of(
        (CustomerSegment.Retail, 70.0), (CustomerSegment.Premier, 10.0), (CustomerSegment.Business, 8.0), (CustomerSegment.Student, 12.0));

    private static readonly WeightedTable<int> AccountsPerCustomer = WeightedTable.Of((1, 45.0), (2, 35.0), (3, 20.0));

    private string NewId(IdKind kind)
    {
        var n = ++_idCounters[(int)kind];
        return kind switch
        {
            IdKind.Customer => $"CUS-{n:D8}",
            IdKind.Account => $"ACC-{n:D8}",
            IdKind.Loan => $"LN-{n:D8}",
            IdKind.Transaction => $"TXN-{n:D10}",
            _ => $"LPM-{n:D10}",
        };
    }

    /// <summary>A customer of the opening book: registered, 1–3 accounts, a quarter with a loan due within 30 days (from the first day on).</summary>
    private void BootstrapCustomer()
    {
        var customer = RegisterCustomer(bootstrap: true);
        if (customer.Segment != CustomerSegment.Student && _random.Chance(0.25))
        {
            // Due from the start's own day on, so even a one-day stream (200k events) holds loan payments.
            DisburseLoan(customer, LocalToday.AddDays(_random.NextInt(0, 30)));
        }
    }

    private Customer RegisterCustomer(bool bootstrap)
    {
        var residence = _random.NextDouble();
        var (home, currency, names) = residence switch
        {
            < 0.90 => (Places.SouthAfricanCity.Pick(_random), Currencies.Zar, Names.ForSouthAfricanResident),
            < 0.95 => (Places.Gaborone, Currencies.Bwp, Names.ForBotswanaResident),
            _ => (Places.Windhoek, Currencies.Nad, Names.ForNamibiaResident),
        };
        var book = names.Pick(_random);
        var firstName = _random.Pick(book.FirstNames);
        var lastName = _random.Pick(book.LastNames);
        var segment = Segments.Pick(_random);
        var (minAge, maxAge) = segment switch
        {
            CustomerSegment.Student => (18, 26),
            CustomerSegment.Premier => (30, 71),
            CustomerSegment.Business => (25, 69),
            _ => (21, 76),
        };
        var dateOfBirth = LocalToday.AddYears(-_random.NextInt(minAge, maxAge)).AddDays(-_random.NextInt(365));
        var incomeZar = segment switch
        {
            CustomerSegment.Student => _random.Chance(0.7) ? _random.LogNormal(2_500, 0.4) : 0,
            CustomerSegment.Premier => _random.LogNormal(65_000, 0.4),
            CustomerSegment.Business => _random.LogNormal(120_000, 0.8),
            _ => _random.LogNormal(18_000, 0.5),
        };
        // Salaries are round to the rand.
        var income = currency.FromZarCents(incomeZar * 100) / 100 * 100;
        var suffix = _random.Chance(0.6) ? _random.NextInt(1, 1000).ToString(CultureInfo.InvariantCulture) : "";
        var customer = new Customer(NewId(IdKind.Customer), segment, home, currency, income);
        _customers.Add(customer);

        EmitReference(new CustomerRegistered
        {
            EventId = NewEventId(),
            OccurredAt = Now,
            CustomerId = customer.Id,
            FirstName = firstName,
            LastName = lastName,
            Email = $"{Names.EmailPart(firstName)}.{Names.EmailPart(lastName)}{suffix}@{_random.Pick(Names.EmailDomains)}",
            DateOfBirth = dateOfBirth,
            Segment = segment,
            City = home.Name,
            Country = home.Country,
        });

        OpenAccount(customer, segment == CustomerSegment.Business ? AccountType.Business : AccountType.Cheque, currency, bootstrap);
        var extra = AccountsPerCustomer.Pick(_random) - 1;
        for (var i = 0; i < extra; i++)
        {
            OpenExtraAccount(customer, bootstrap);
        }

        return customer;
    }

    private void OpenExtraAccount(Customer customer, bool bootstrap)
    {
        var roll = _random.NextDouble();
        if (roll < 0.45 || (customer.Segment == CustomerSegment.Student && roll < 0.8))
        {
            OpenAccount(customer, AccountType.Savings, customer.HomeCurrency, bootstrap);
        }
        else if (roll < 0.8)
        {
            OpenAccount(customer, AccountType.CreditCard, customer.HomeCurrency, bootstrap);
        }
        else
        {
            var currency = customer.HomeCurrency == Currencies.Zar
                ? Currencies.ForeignForSouthAfrican.Pick(_random)
                : _random.Chance(0.5) ? Currencies.Zar : Currencies.Usd;
            OpenAccount(customer, AccountType.Cheque, currency, bootstrap);
        }
    }

    private Account OpenAccount(Customer customer, AccountType type, CurrencyInfo currency, bool bootstrap)
    {
        var factor = customer.SpendFactor;
        // Accounts migrated at bootstrap carry history; new ones open with a small first deposit.
        var openingZar = type switch
        {
            AccountType.CreditCard => 0,
            AccountType.Savings => bootstrap ? _random.LogNormal(15_000, 1.2) * factor : _random.LogNormal(500, 0.8),
            AccountType.Business => bootstrap ? _random.LogNormal(60_000, 1.0) : _random.LogNormal(5_000, 0.8),
            _ => bootstrap ? _random.LogNormal(4_000, 1.0) * factor : _random.LogNormal(300, 0.8),
        };
        var overdraftZar = type switch
        {
            AccountType.Savings => 0,
            AccountType.CreditCard => customer.Segment switch
            {
                CustomerSegment.Student => 3_000,
                CustomerSegment.Premier => _random.LogNormal(60_000, 0.5),
                CustomerSegment.Business => _random.LogNormal(50_000, 0.5),
                _ => _random.LogNormal(15_000, 0.6),
            },
            AccountType.Business => _random.LogNormal(50_000, 0.8),
            _ => customer.Segment switch
            {
                CustomerSegment.Student => 0,
                CustomerSegment.Premier => _random.LogNormal(20_000, 0.5),
                _ => _random.Chance(0.5) ? 0 : _random.LogNormal(3_000, 0.6),
            },
        };

        // Limits are whole hundreds of the currency; balances are cents.
        var overdraft = currency.FromZarCents(overdraftZar * 100) / 10_000 * 10_000;
        var opening = currency.FromZarCents(openingZar * 100);
        var account = new Account(NewId(IdKind.Account), customer, type, currency, overdraft, _actionTicks) { BalanceCents = opening };
        customer.Accounts.Add(account);
        _accounts.Add(account);
        if (type != AccountType.CreditCard)
        {
            if (!_transferTargets.TryGetValue(currency.Code, out var targets))
            {
                _transferTargets[currency.Code] = targets = [];
            }

            targets.Add(account);
        }

        EmitReference(new AccountOpened
        {
            EventId = NewEventId(),
            OccurredAt = Now,
            AccountId = account.Id,
            CustomerId = customer.Id,
            AccountType = type,
            Currency = currency.Code,
            OpeningBalance = Money.FromCents(opening),
            OverdraftLimit = Money.FromCents(overdraft),
            Branch = _random.Pick(customer.Home.Branches),
        });
        return account;
    }

    private static readonly int[] PersonalTerms = [12, 24, 36, 48, 60, 72];
    private static readonly int[] VehicleTerms = [48, 60, 72];
    private static readonly int[] BusinessTerms = [12, 24, 36, 48, 60];

    /// <summary>
    /// Pays a loan into the customer's primary account: <see cref="LoanDisbursed"/> plus the
    /// matching transfer_in, and schedules the first instalment.
    /// </summary>
    private void DisburseLoan(Customer customer, DateOnly firstDue)
    {
        var account = customer.Primary;
        var roll = _random.NextDouble();
        var product = customer.Segment == CustomerSegment.Business
            ? roll switch { < 0.6 => LoanProduct.Business, < 0.85 => LoanProduct.Vehicle, _ => LoanProduct.Personal }
            : roll switch { < 0.5 => LoanProduct.Personal, < 0.82 => LoanProduct.Vehicle, _ => LoanProduct.Home };
        var (principalZar, rateBps, term) = product switch
        {
            LoanProduct.Personal => (Math.Clamp(_random.LogNormal(40_000, 0.6), 5_000, 350_000), _random.NextInt(1_400, 2_750), _random.Pick(PersonalTerms)),
            LoanProduct.Vehicle => (Math.Clamp(_random.LogNormal(300_000, 0.5), 60_000, 1_500_000), _random.NextInt(1_150, 1_600), _random.Pick(VehicleTerms)),
            LoanProduct.Home => (Math.Clamp(_random.LogNormal(1_200_000, 0.6), 250_000, 8_000_000), _random.NextInt(1_050, 1_250), _random.Chance(0.85) ? 240 : 360),
            _ => (Math.Clamp(_random.LogNormal(500_000, 0.8), 50_000, 10_000_000), _random.NextInt(1_150, 1_700), _random.Pick(BusinessTerms)),
        };

        var annualRate = rateBps / 10_000m;
        var monthlyRate = annualRate / 12m;
        var principal = account.Currency.FromZarCents(principalZar * 100) / 10_000 * 10_000;
        var instalment = Loan.Instalment(principal, monthlyRate, term);

        // Affordability: the instalment stays within a third of income, as a credit check would insist.
        var affordable = customer.MonthlyIncomeCents / 3;
        if (instalment > affordable && affordable > 0)
        {
            principal = Math.Max(100_000, (long)(principal * (affordable / (double)instalment)) / 10_000 * 10_000);
            instalment = Loan.Instalment(principal, monthlyRate, term);
        }

        var dueDay = Math.Min(firstDue.Day, 28);
        var loan = new Loan(NewId(IdKind.Loan), account, monthlyRate, term, instalment, principal, dueDay)
        {
            NextDueDate = new DateOnly(firstDue.Year, firstDue.Month, dueDay),
        };
        customer.ActiveLoans++;

        EmitReference(new LoanDisbursed
        {
            EventId = NewEventId(),
            OccurredAt = Now,
            LoanId = loan.Id,
            CustomerId = customer.Id,
            AccountId = account.Id,
            Product = product,
            Principal = Money.FromCents(principal),
            Currency = account.Currency.Code,
            AnnualInterestRate = annualRate,
            TermMonths = term,
            MonthlyInstalment = Money.FromCents(instalment),
            FirstDueDate = loan.NextDueDate,
        });
        PostTransaction(account, TransactionType.TransferIn, principal, Channel.System, customer.Home.Centre, counterparty: loan.Id, reference: loan.Id);
        ScheduleInstalment(loan);
    }
}
