using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

// Work that falls due at simulated instants: loan instalments and the monthly runs (payroll,
// card settlement, fees, interest). Runs walk the book one customer or account per record,
// spaced over a window, so they interleave with ordinary activity.
internal sealed partial class BankSimulation
{
    private readonly PriorityQueue<ScheduledWork, ScheduleSlot> _schedule = new();
    private long _scheduleOrder;

    private void Schedule(ScheduledWork work, long dueTicks) => _schedule.Enqueue(work, new ScheduleSlot(dueTicks, _scheduleOrder++));

    private void ScheduleFirstMonthlyRuns()
    {
        var local = ActivityCalendar.ToLocal(_clock.Ticks);
        var thisMonth = new DateOnly(local.Year, local.Month, 1);
        foreach (var kind in Enum.GetValues<MonthlyRunKind>())
        {
            var month = MonthlyRun.DueTicks(kind, thisMonth) >= _clock.Ticks ? thisMonth : thisMonth.AddMonths(1);
            Schedule(new MonthlyRun(kind, month), MonthlyRun.DueTicks(kind, month));
        }
    }

    private void ScheduleInstalment(Loan loan)
    {
        var due = ActivityCalendar.ToUtcTicks(loan.NextDueDate, TimeSpan.FromHours(6)) + (_random.NextInt(120) * OneMinute);
        // A few percent of instalments are paid some days late.
        if (_random.Chance(0.04))
        {
            due += _random.NextInt(1, 11) * TimeSpan.TicksPerDay;
        }

        Schedule(new LoanInstalmentDue(loan), due);
    }

    private void PayInstalment(Loan loan)
    {
        var account = loan.Account;
        var interest = Money.ToCents(Money.FromCents(loan.OutstandingCents) * loan.MonthlyRate);
        var isLast = loan.NextInstalment >= loan.TermMonths;
        var principalPart = isLast ? loan.OutstandingCents : Math.Min(loan.OutstandingCents, loan.InstalmentCents - interest);
        var amount = principalPart + interest;
        if (amount > account.AvailableCents)
        {
            // The debit order bounces; the bank retries two days later.
            Schedule(new LoanInstalmentDue(loan), _actionTicks + (2 * TimeSpan.TicksPerDay) + (_random.NextInt(120) * OneMinute));
            return;
        }

        EmitReference(new LoanPaymentMade
        {
            EventId = NewEventId(),
            OccurredAt = Now,
            PaymentId = NewId(IdKind.Payment),
            LoanId = loan.Id,
            CustomerId = account.Customer.Id,
            AccountId = account.Id,
            Amount = Money.FromCents(amount),
            PrincipalPortion = Money.FromCents(principalPart),
            InterestPortion = Money.FromCents(interest),
            Currency = account.Currency.Code,
            DueDate = loan.NextDueDate,
            InstalmentNumber = loan.NextInstalment,
        });
        PostTransaction(account, TransactionType.TransferOut, amount, Channel.System, account.Customer.Home.Centre, counterparty: loan.Id, reference: loan.Id);

        loan.OutstandingCents -= principalPart;
        loan.NextInstalment++;
        if (loan.NextInstalment > loan.TermMonths || loan.OutstandingCents == 0)
        {
            account.Customer.ActiveLoans--;
            return;
        }

        var next = loan.NextDueDate.AddMonths(1);
        loan.NextDueDate = new DateOnly(next.Year, next.Month, loan.DueDay);
        ScheduleInstalment(loan);
    }

    private void RunMonthly(MonthlyRunKind kind, int index, DateOnly month)
    {
        switch (kind)
        {
            case MonthlyRunKind.Payroll:
                PaySalary(_customers[index], month);
                break;
            case MonthlyRunKind.CardSettlement:
                SettleCard(_accounts[index]);
                break;
            case MonthlyRunKind.Fees:
                ChargeMonthlyFee(_accounts[index], month);
                break;
            case MonthlyRunKind.Interest:
                PayInterest(_accounts[index], month);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private void PaySalary(Customer customer, DateOnly month)
    {
        if (customer.Segment == CustomerSegment.Business || customer.MonthlyIncomeCents <= 0)
        {
            return;
        }

        var amount = customer.MonthlyIncomeCents;
        if (_random.Chance(0.3))
        {
            // Hourly and commission earners: the pay varies around the usual.
            amount = (long)Math.Round(amount * _random.Uniform(0.9, 1.1), MidpointRounding.ToEven);
        }

        var label = customer.Segment == CustomerSegment.Student ? "ALLOWANCE" : "SALARY";
        PostTransaction(customer.Primary, TransactionType.Deposit, amount, Channel.System, customer.Home.Centre,
            reference: $"{label} {month.Year:D4}-{month.Month:D2}");
    }

    private void SettleCard(Account card)
    {
        if (card.Type != AccountType.CreditCard || card.BalanceCents >= 0)
        {
            return;
        }

        Account? source = null;
        foreach (var candidate in card.Customer.Accounts)
        {
            if (candidate.Type is AccountType.Cheque or AccountType.Business && candidate.Currency == card.Currency)
            {
                source = candidate;
                break;
            }
        }

        if (source is null)
        {
            return;
        }

        var owed = -card.BalanceCents;
        var payment = _random.Chance(0.7)
            ? owed
            : Math.Min(owed, Math.Max(10_000, (long)(owed * _random.Uniform(0.1, 0.4))));
        // Cards are settled from money in the bank, not from the cheque account's overdraft.
        payment = Math.Min(payment, source.BalanceCents);
        if (payment < 100)
        {
            return;
        }

        PostTransfer(source, card, payment, Channel.System, "CARD PAYMENT");
    }

    private void ChargeMonthlyFee(Account account, DateOnly month)
    {
        var feeZar = account.Type switch
        {
            AccountType.Business => 280,
            AccountType.CreditCard => 49,
            AccountType.Cheque => account.Customer.Segment switch
            {
                CustomerSegment.Student => 0,
                CustomerSegment.Premier => 350,
                CustomerSegment.Business => 120,
                _ => 75,
            },
            _ => 0,
        };
        if (feeZar == 0)
        {
            return;
        }

        var fee = Math.Min(account.Currency.FromZarCents(feeZar * 100), account.AvailableCents);
        if (fee < 100)
        {
            return;
        }

        PostTransaction(account, TransactionType.Fee, fee, Channel.System, account.Customer.Home.Centre,
            reference: $"MONTHLY FEE {month.Year:D4}-{month.Month:D2}");
    }

    private void PayInterest(Account account, DateOnly month)
    {
        if (account.Type != AccountType.Savings || account.BalanceCents <= 0)
        {
            return;
        }

        var annualRate = account.Currency == Currencies.Zar ? 0.0725 : 0.02;
        var interest = (long)Math.Round(account.BalanceCents * annualRate / 12, MidpointRounding.ToEven);
        if (interest < 1)
        {
            return;
        }

        PostTransaction(account, TransactionType.Interest, interest, Channel.System, account.Customer.Home.Centre,
            reference: $"INTEREST {month.Year:D4}-{month.Month:D2}");
    }

    private readonly record struct ScheduleSlot(long Ticks, long Order) : IComparable<ScheduleSlot>
    {
        public int CompareTo(ScheduleSlot other) => Ticks != other.Ticks ? Ticks.CompareTo(other.Ticks) : Order.CompareTo(other.Order);
    }

    private abstract class ScheduledWork
    {
        public abstract void Run(BankSimulation simulation);
    }

    private sealed class LoanInstalmentDue(Loan loan) : ScheduledWork
    {
        public override void Run(BankSimulation simulation) => simulation.PayInstalment(loan);
    }

    private enum MonthlyRunKind { Payroll, CardSettlement, Fees, Interest }

    /// <summary>One month's run over the book, one item per step, spread evenly over its window.</summary>
    private sealed class MonthlyRun(MonthlyRunKind kind, DateOnly month) : ScheduledWork
    {
        private int _next;
        private int _count = -1;

        public static long DueTicks(MonthlyRunKind kind, DateOnly month) => kind switch
        {
            MonthlyRunKind.Payroll => ActivityCalendar.ToUtcTicks(month.AddDays(ActivityCalendar.Payday - 1), TimeSpan.FromHours(4)),
            MonthlyRunKind.CardSettlement => ActivityCalendar.ToUtcTicks(month.AddDays(26), TimeSpan.FromHours(8)),
            MonthlyRunKind.Fees => ActivityCalendar.ToUtcTicks(month, TimeSpan.FromHours(1)),
            _ => ActivityCalendar.ToUtcTicks(month.AddMonths(1).AddDays(-1), TimeSpan.FromHours(22)),
        };

        private static long Window(MonthlyRunKind kind) => kind switch
        {
            MonthlyRunKind.Payroll => TimeSpan.FromHours(5).Ticks,
            MonthlyRunKind.CardSettlement => TimeSpan.FromHours(4).Ticks,
            MonthlyRunKind.Fees => TimeSpan.FromHours(3).Ticks,
            _ => TimeSpan.FromMinutes(90).Ticks,
        };

        public override void Run(BankSimulation simulation)
        {
            if (_count < 0)
            {
                // The run covers the book as it stands when the run starts.
                _count = kind == MonthlyRunKind.Payroll ? simulation._customers.Count : simulation._accounts.Count;
            }

            if (_next < _count)
            {
                simulation.RunMonthly(kind, _next, month);
                _next++;
            }

            if (_next < _count)
            {
                simulation.Schedule(this, DueTicks(kind, month) + (Window(kind) / _count * _next));
            }
            else
            {
                var nextMonth = month.AddMonths(1);
                simulation.Schedule(new MonthlyRun(kind, nextMonth), DueTicks(kind, nextMonth));
            }
        }
    }
}
