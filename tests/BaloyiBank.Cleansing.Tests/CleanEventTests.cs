namespace BaloyiBank.Cleansing.Tests;

/// <summary>Clean payloads of every type become the right silver row: values, normalization, lineage.</summary>
public sealed class CleanEventTests
{
    [Fact]
    public void A_card_purchase_becomes_a_debit_row_with_normalized_text_and_lineage()
    {
        var outcome = Wire.Run(Wire.Transaction);

        Assert.Equal(OutcomeKind.Valid, outcome.Kind);
        var row = Assert.IsType<TransactionRow>(outcome.Row);
        Assert.Same(SilverTables.Transactions, row.Table);
        Assert.Equal("TXN-000000001", row.TransactionId);
        Assert.Equal("6f1c2a9e-0000-4000-8000-000000000001", row.EventId);
        Assert.Equal("ACC-00000001", row.AccountId);
        Assert.Equal("CUS-00000001", row.CustomerId);
        Assert.Equal("card_purchase", row.TransactionType);
        Assert.Equal("debit", row.Direction);
        Assert.Equal(123.45m, row.Amount);
        Assert.Equal(-123.45m, row.SignedAmount);
        Assert.Equal("123.45", row.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("ZAR", row.Currency);
        Assert.Equal("card", row.Channel);
        Assert.Equal("groceries", row.MerchantCategory);
        Assert.Equal("Pick n Pay Rosebank", row.MerchantName);
        Assert.Null(row.Counterparty);
        Assert.Null(row.Reference);
        Assert.Equal("Johannesburg", row.City);
        Assert.Equal("ZA", row.Country);
        Assert.Equal(-26.2041, row.Latitude);
        Assert.Equal(28.0473, row.Longitude);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, 123, TimeSpan.Zero), row.OccurredAt);
        Assert.Equal(new DateOnly(2026, 3, 1), row.EventDate);
        Assert.Equal(0, row.SourcePartition);
        Assert.Equal(7, row.SourceOffset);
        Assert.Equal(Wire.EnqueuedAt, row.EnqueuedAt);
        Assert.Equal(Wire.IngestedAt, row.IngestedAt);
        Assert.Equal(1, row.SchemaVersion);
    }

    [Theory]
    [InlineData("deposit", "credit")]
    [InlineData("transfer_in", "credit")]
    [InlineData("interest", "credit")]
    [InlineData("withdrawal", "debit")]
    [InlineData("transfer_out", "debit")]
    [InlineData("fee", "debit")]
    public void The_transaction_type_decides_the_direction_and_the_sign(string type, string direction)
    {
        var json = Wire.Edit(Wire.Transaction, o =>
        {
            o["transactionType"] = type;
            o["merchantCategory"] = null;
            o.Remove("merchantName");
            o["counterparty"] = "ACC-00000077";
            o["reference"] = " rent march ";
        });

        var row = Assert.IsType<TransactionRow>(Wire.Run(json).Row);

        Assert.Equal(direction, row.Direction);
        Assert.Equal(direction == "credit" ? 123.45m : -123.45m, row.SignedAmount);
        Assert.Null(row.MerchantCategory);
        Assert.Null(row.MerchantName);
        Assert.Equal("ACC-00000077", row.Counterparty);
        Assert.Equal("rent march", row.Reference);
    }

    [Fact]
    public void An_instant_with_an_offset_is_stored_in_utc_and_dated_by_its_utc_day()
    {
        var json = Wire.Edit(Wire.Transaction, o => o["occurredAt"] = "2026-03-01T01:30:00.1234567+02:00");

        var row = Assert.IsType<TransactionRow>(Wire.Run(json).Row);

        // 23:30 UTC on the previous day; ticks cut to microseconds (Delta's precision).
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 23, 30, 0, TimeSpan.Zero).AddTicks(1_234_560), row.OccurredAt);
        Assert.Equal(TimeSpan.Zero, row.OccurredAt.Offset);
        Assert.Equal(new DateOnly(2026, 2, 28), row.EventDate);
    }

    [Fact]
    public void A_customer_registration_becomes_a_customer_row()
    {
        var row = Assert.IsType<CustomerRow>(Wire.Run(Wire.Customer).Row);

        Assert.Equal("CUS-00000002", row.CustomerId);
        Assert.Equal("Thandiwe", row.FirstName);
        Assert.Equal("Baloyi", row.LastName);
        Assert.Equal("thandiwe.baloyi@example.co.za", row.Email);
        Assert.Equal(new DateOnly(1990, 7, 15), row.DateOfBirth);
        Assert.Equal("premier", row.Segment);
        Assert.Equal("Pretoria", row.City);
        Assert.Equal("ZA", row.Country);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero), row.OccurredAt);
        Assert.Equal(7, row.SourceOffset);
    }

    [Fact]
    public void An_account_opening_becomes_an_account_row_and_makes_the_account_known()
    {
        var state = Wire.NewState();
        var row = Assert.IsType<AccountRow>(Wire.Run(Wire.Account, state).Row);

        Assert.Equal("ACC-00000002", row.AccountId);
        Assert.Equal("CUS-00000002", row.CustomerId);
        Assert.Equal("credit_card", row.AccountType);
        Assert.Equal("ZAR", row.Currency);
        Assert.Equal(0.00m, row.OpeningBalance);
        Assert.Equal(15000.00m, row.OverdraftLimit);
        Assert.Equal("Menlyn", row.Branch);
        Assert.True(state.TryGetAccountCurrency("ACC-00000002", out var currency));
        Assert.Equal("ZAR", currency);

        var transaction = Wire.Edit(Wire.Transaction, o => o["accountId"] = "ACC-00000002");
        Assert.Equal(OutcomeKind.Valid, Wire.Run(transaction, state).Kind);
    }

    [Fact]
    public void A_loan_disbursement_becomes_a_loan_row()
    {
        var row = Assert.IsType<LoanRow>(Wire.Run(Wire.Loan).Row);

        Assert.Equal("LN-00000001", row.LoanId);
        Assert.Equal("ACC-00000001", row.AccountId);
        Assert.Equal("vehicle", row.Product);
        Assert.Equal(250000.00m, row.Principal);
        Assert.Equal(0.1175m, row.AnnualInterestRate);
        Assert.Equal(60, row.TermMonths);
        Assert.Equal(5529.17m, row.MonthlyInstalment);
        Assert.Equal(new DateOnly(2026, 4, 1), row.FirstDueDate);
    }

    [Fact]
    public void A_loan_payment_becomes_a_loan_payment_row()
    {
        var row = Assert.IsType<LoanPaymentRow>(Wire.Run(Wire.LoanPayment).Row);

        Assert.Equal("LPM-00000001", row.PaymentId);
        Assert.Equal("LN-00000001", row.LoanId);
        Assert.Equal(5529.17m, row.Amount);
        Assert.Equal(3081.25m, row.PrincipalPortion);
        Assert.Equal(2447.92m, row.InterestPortion);
        Assert.Equal(new DateOnly(2026, 3, 1), row.DueDate);
        Assert.Equal(1, row.InstalmentNumber);
        Assert.Equal(new DateOnly(2026, 3, 1), row.EventDate);
    }

    [Fact]
    public void The_discriminator_may_come_later_unknown_properties_are_ignored_and_amounts_may_use_exponents()
    {
        var json = """{"schemaVersion":1,"x-trace":{"hops":[1,2]},"type":"transaction.posted","eventId":"e-1","occurredAt":"2026-03-01T10:00:00Z","transactionId":"TXN-9","accountId":"ACC-00000001","customerId":"CUS-00000001","transactionType":"deposit","amount":1.2345e2,"currency":"ZAR","channel":"branch","location":{"city":"Durban","country":"ZA","latitude":-29.85,"longitude":31.02,"accuracy":5}}""";

        var row = Assert.IsType<TransactionRow>(Wire.Run(json).Row);

        Assert.Equal(123.45m, row.Amount);
        Assert.Equal("credit", row.Direction);
    }

    [Fact]
    public void Escaped_text_is_unescaped_and_repeated_text_is_shared_between_rows()
    {
        var cleanser = new RawEventCleanser();
        var state = Wire.NewState();
        var first = Assert.IsType<TransactionRow>(Wire.Run(cleanser, state, Wire.Bytes(Wire.Edit(Wire.Transaction, o => o["merchantName"] = "Caf\u00e9 \"Nando's\"")), 1).Row);
        var second = Assert.IsType<TransactionRow>(Wire.Run(cleanser, state, Wire.Bytes(Wire.Edit(Wire.Transaction, o => o["transactionId"] = "TXN-2")), 2).Row);

        Assert.Equal("Café \"Nando's\"", first.MerchantName);
        Assert.Same(first.City, second.City);
        Assert.Same(first.AccountId, second.AccountId);
        Assert.Same(first.CustomerId, second.CustomerId);
    }
}
