using System.Text;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>Every reason code, each from a minimal payload that breaks exactly its rule.</summary>
public sealed class ReasonCodeTests
{
    private static CleansingOutcome Tx(Action<System.Text.Json.Nodes.JsonObject> edit) => Wire.Run(Wire.Edit(Wire.Transaction, edit));

    private static void AssertQuarantined(string reason, CleansingOutcome outcome, string? detailContains = null)
    {
        Assert.True(outcome.Kind == OutcomeKind.Quarantined, $"expected {reason}, got {outcome}");
        Assert.Equal(reason, outcome.Reason);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Detail));
        Assert.True(outcome.Detail!.Length <= CleansingOutcome.MaxDetailLength);
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, outcome.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Payload_too_large()
    {
        var options = new CleansingOptions { MaxPayloadBytes = 1024 };
        var json = Wire.Edit(Wire.Transaction, o => o["merchantName"] = new string('x', 2000));
        AssertQuarantined(QuarantineReasons.PayloadTooLarge, Wire.Run(json, options: options), "1024");
    }

    [Fact]
    public void Invalid_utf8()
    {
        var bytes = Wire.Bytes(Wire.Transaction);
        var at = Wire.Transaction.IndexOf("Johannesburg", StringComparison.Ordinal) + 3;
        bytes[at] = 0xE9; // a raw Latin-1 é
        AssertQuarantined(QuarantineReasons.InvalidUtf8, Wire.Run(new RawEventCleanser(), Wire.NewState(), bytes), $"offset {at}");
    }

    [Fact]
    public void Invalid_utf8_also_covers_an_escaped_lone_surrogate() =>
        AssertQuarantined(QuarantineReasons.InvalidUtf8, Wire.Run(Wire.Transaction.Replace("Pick n Pay", "Pick \\ud800 Pay", StringComparison.Ordinal)));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("{\"type\":\"transaction.posted\",")]
    [InlineData("{\"type\":\"transaction.posted\"}}")]
    [InlineData("{'type':'transaction.posted'}")]
    [InlineData("{\"type\":\"transaction.posted\",}")]
    public void Malformed_json(string json) => AssertQuarantined(QuarantineReasons.MalformedJson, Wire.Run(json));

    [Fact]
    public void Malformed_json_outranks_a_value_rule_broken_before_the_break()
    {
        var broken = Wire.Edit(Wire.Transaction, o => o["currency"] = "ZZZ");
        AssertQuarantined(QuarantineReasons.MalformedJson, Wire.Run(broken[..^10]));
    }

    [Fact]
    public void Malformed_json_for_a_byte_order_mark_and_for_a_control_byte()
    {
        AssertQuarantined(QuarantineReasons.MalformedJson, Wire.Run(new RawEventCleanser(), Wire.NewState(), [0xEF, 0xBB, 0xBF, .. Wire.Bytes(Wire.Transaction)]));
        var bytes = Wire.Bytes(Wire.Transaction);
        bytes[40] = 0x01;
        AssertQuarantined(QuarantineReasons.MalformedJson, Wire.Run(new RawEventCleanser(), Wire.NewState(), bytes));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"type\":\"transaction.posted\"}]")]
    [InlineData("\"transaction.posted\"")]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("null")]
    public void Not_an_object(string json) => AssertQuarantined(QuarantineReasons.NotAnObject, Wire.Run(json));

    [Fact]
    public void Nesting_too_deep()
    {
        var deep = new StringBuilder("{\"type\":\"transaction.posted\",\"x\":");
        deep.Append('[', 50).Append(']', 50).Append('}');
        AssertQuarantined(QuarantineReasons.NestingTooDeep, Wire.Run(deep.ToString()));
    }

    [Fact]
    public void Unknown_event_type() =>
        AssertQuarantined(QuarantineReasons.UnknownEventType, Tx(o => o["type"] = "transaction.reversed"), "transaction.reversed");

    [Fact]
    public void Unsupported_schema_version() =>
        AssertQuarantined(QuarantineReasons.UnsupportedSchemaVersion, Tx(o => o["schemaVersion"] = 2), "2");

    [Theory]
    [InlineData("amount")]
    [InlineData("accountId")]
    [InlineData("currency")]
    [InlineData("occurredAt")]
    [InlineData("transactionId")]
    [InlineData("type")]
    [InlineData("schemaVersion")]
    [InlineData("location")]
    public void Missing_field_names_the_field(string field)
    {
        var outcome = Tx(o => o.Remove(field));
        AssertQuarantined(QuarantineReasons.MissingField, outcome, field == "type" ? "type" : field);
    }

    [Fact]
    public void Missing_field_inside_location_and_null_for_a_required_field()
    {
        AssertQuarantined(QuarantineReasons.MissingField, Tx(o => o["location"]!.AsObject().Remove("latitude")), "location has no latitude");
        AssertQuarantined(QuarantineReasons.MissingField, Tx(o => o["accountId"] = null), "accountId is null");
    }

    [Theory]
    [InlineData("amount", "\"123.45\"")]
    [InlineData("amount", "\"NaN\"")]
    [InlineData("amount", "\"Infinity\"")]
    [InlineData("accountId", "42")]
    [InlineData("schemaVersion", "\"1\"")]
    [InlineData("location", "\"Johannesburg\"")]
    [InlineData("channel", "[\"card\"]")]
    [InlineData("occurredAt", "1767225600")]
    public void Wrong_type(string field, string value)
    {
        var json = Wire.Edit(Wire.Transaction, o => o[field] = System.Text.Json.Nodes.JsonNode.Parse(value));
        AssertQuarantined(QuarantineReasons.WrongType, Wire.Run(json), field);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    public void Non_finite_numbers_are_not_json_at_all(string literal) =>
        AssertQuarantined(QuarantineReasons.MalformedJson, Wire.Run(Wire.Transaction.Replace("123.45", literal, StringComparison.Ordinal)));

    [Fact]
    public void Duplicate_field()
    {
        AssertQuarantined(QuarantineReasons.DuplicateField, Wire.Run(Wire.Transaction.Replace("\"amount\":123.45", "\"amount\":123.45,\"amount\":0.01", StringComparison.Ordinal)), "amount");
        AssertQuarantined(QuarantineReasons.DuplicateField, Wire.Run(Wire.Transaction.Replace("{\"city\"", "{\"city\":\"Durban\",\"city\"", StringComparison.Ordinal)), "location.city");
        AssertQuarantined(QuarantineReasons.DuplicateField, Wire.Run(Wire.Transaction.Replace("{\"type\"", "{\"x\":1,\"x\":2,\"type\"", StringComparison.Ordinal)), "x");
    }

    [Theory]
    [InlineData("0.001", QuarantineReasons.AmountPrecision)]
    [InlineData("12.345", QuarantineReasons.AmountPrecision)]
    [InlineData("1e-3", QuarantineReasons.AmountPrecision)]
    [InlineData("1e400", QuarantineReasons.AmountOutOfRange)]
    [InlineData("12345678901234567890.12", QuarantineReasons.AmountOutOfRange)]
    [InlineData("10000000000000000", QuarantineReasons.AmountOutOfRange)]
    [InlineData("0", QuarantineReasons.NonPositiveAmount)]
    [InlineData("0.00", QuarantineReasons.NonPositiveAmount)]
    [InlineData("-0", QuarantineReasons.NonPositiveAmount)]
    [InlineData("-123.45", QuarantineReasons.NonPositiveAmount)]
    public void Amount_rules(string amount, string reason) =>
        AssertQuarantined(reason, Wire.Run(Wire.Transaction.Replace("123.45", amount, StringComparison.Ordinal)));

    [Fact]
    public void Amount_precision_also_for_rates_beyond_six_places() =>
        AssertQuarantined(QuarantineReasons.AmountPrecision, Wire.Run(Wire.Edit(Wire.Loan, o => o["annualInterestRate"] = 0.11755555m)), "annualInterestRate");

    [Fact]
    public void Amount_out_of_range_also_for_balances() =>
        AssertQuarantined(QuarantineReasons.AmountOutOfRange, Wire.Run(Wire.Account.Replace("15000.00", "1e16", StringComparison.Ordinal)), "overdraftLimit");

    [Fact]
    public void Non_positive_amount_also_for_a_negative_opening_balance_but_zero_is_fine()
    {
        AssertQuarantined(QuarantineReasons.NonPositiveAmount, Wire.Run(Wire.Account.Replace("\"openingBalance\":0.00", "\"openingBalance\":-0.01", StringComparison.Ordinal)), "openingBalance");
        Assert.Equal(OutcomeKind.Valid, Wire.Run(Wire.Account).Kind);
    }

    [Theory]
    [InlineData("9999999999999999.99")]
    [InlineData("12.500")]
    [InlineData("0.01")]
    [InlineData("1E2")]
    public void Amounts_at_the_edges_are_exact(string amount)
    {
        var row = Assert.IsType<TransactionRow>(Wire.Run(Wire.Transaction.Replace("123.45", amount, StringComparison.Ordinal)).Row);
        Assert.Equal(decimal.Parse(amount, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture), row.Amount);
    }

    [Theory]
    [InlineData("ZZZ")]
    [InlineData("zar")]
    [InlineData("ZA")]
    [InlineData("XTS")]
    [InlineData("")]
    public void Unknown_currency(string currency) =>
        AssertQuarantined(QuarantineReasons.UnknownCurrency, Tx(o => o["currency"] = currency));

    [Fact]
    public void Currency_mismatch() =>
        AssertQuarantined(QuarantineReasons.CurrencyMismatch, Tx(o => o["currency"] = "USD"), "ZAR");

    [Theory]
    [InlineData("transactionType", "purchase")]
    [InlineData("transactionType", "CARD_PURCHASE")]
    [InlineData("channel", "fax")]
    [InlineData("merchantCategory", "casinos")]
    [InlineData("transactionId", "")]
    [InlineData("transactionId", "TXN 1")]
    [InlineData("eventId", "e\u0001")]
    [InlineData("accountId", "ACC-é")]
    public void Invalid_value(string field, string value) =>
        AssertQuarantined(QuarantineReasons.InvalidValue, Tx(o => o[field] = value), field);

    [Fact]
    public void Invalid_value_for_long_ids_blank_text_coordinates_and_inconsistent_payments()
    {
        AssertQuarantined(QuarantineReasons.InvalidValue, Tx(o => o["transactionId"] = new string('T', 65)));
        AssertQuarantined(QuarantineReasons.InvalidValue, Tx(o => o["location"]!["city"] = "   "));
        AssertQuarantined(QuarantineReasons.InvalidValue, Tx(o => o["location"]!["latitude"] = 90.5));
        AssertQuarantined(QuarantineReasons.InvalidValue, Tx(o => o["location"]!["longitude"] = -180.01));
        AssertQuarantined(QuarantineReasons.InvalidValue, Tx(o => o["location"]!["country"] = "ZAF"));
        AssertQuarantined(QuarantineReasons.InvalidValue, Wire.Run(Wire.Edit(Wire.LoanPayment, o => o["interestPortion"] = 2447.91m)), "principalPortion");
    }

    [Theory]
    [InlineData("2026-03-01T10:00:00")]
    [InlineData("2026-03-01 10:00:00Z")]
    [InlineData("2026-02-30T10:00:00Z")]
    [InlineData("2026-03-01T24:00:00Z")]
    [InlineData("2026-03-01T10:00:00.Z")]
    [InlineData("2026-03-01T10:00:00+15:00")]
    [InlineData("yesterday")]
    [InlineData("1999-12-31T23:59:59Z")]
    public void Invalid_timestamp(string occurredAt) =>
        AssertQuarantined(QuarantineReasons.InvalidTimestamp, Tx(o => o["occurredAt"] = occurredAt), "occurredAt");

    [Fact]
    public void Invalid_timestamp_for_a_date_that_is_not_yyyy_mm_dd() =>
        AssertQuarantined(QuarantineReasons.InvalidTimestamp, Wire.Run(Wire.Edit(Wire.Customer, o => o["dateOfBirth"] = "15/07/1990")), "dateOfBirth");

    [Fact]
    public void Future_timestamp_beyond_the_enqueue_time()
    {
        // Enqueued 10:00:05; 5 minutes of producer skew are tolerated.
        Assert.Equal(OutcomeKind.Valid, Tx(o => o["occurredAt"] = "2026-03-01T10:05:05Z").Kind);
        AssertQuarantined(QuarantineReasons.FutureTimestamp, Tx(o => o["occurredAt"] = "2026-03-01T10:05:06Z"), "enqueued");
    }

    [Fact]
    public void Unknown_account() =>
        AssertQuarantined(QuarantineReasons.UnknownAccount, Tx(o => o["accountId"] = "ACC-91234567"), "ACC-91234567");

    [Fact]
    public void Unknown_account_for_loans_too() =>
        AssertQuarantined(QuarantineReasons.UnknownAccount, Wire.Run(Wire.Edit(Wire.Loan, o => o["accountId"] = "ACC-7")));

    [Fact]
    public void Duplicate_account()
    {
        var state = Wire.NewState();
        Assert.Equal(OutcomeKind.Valid, Wire.Run(Wire.Account, state).Kind);
        AssertQuarantined(QuarantineReasons.DuplicateAccount, Wire.Run(Wire.Edit(Wire.Account, o => o["currency"] = "USD"), state), "ACC-00000002");
        Assert.True(state.TryGetAccountCurrency("ACC-00000002", out var currency));
        Assert.Equal("ZAR", currency);
    }

    [Fact]
    public void Every_reason_code_is_distinct_snake_case_and_tested_here()
    {
        Assert.Equal(QuarantineReasons.All.Count, QuarantineReasons.All.Distinct().Count());
        Assert.All(QuarantineReasons.All, code => Assert.Matches("^[a-z]+(_[a-z0-9]+)*$", code));
        var tested = typeof(ReasonCodeTests).GetMethods().Select(m => m.Name.ToUpperInvariant()).ToHashSet();
        Assert.All(QuarantineReasons.All, code => Assert.Contains(tested, name =>
            name.Replace("_", "", StringComparison.Ordinal).StartsWith(code.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant(), StringComparison.Ordinal)));
    }

    [Fact]
    public void A_quarantined_event_keeps_its_type_and_a_quarantine_row_keeps_its_bytes()
    {
        var options = new CleansingOptions { MaxPayloadBytes = 1024 };
        var payload = Wire.Bytes(Wire.Edit(Wire.Transaction, o => o["currency"] = "QQQ"));
        var raw = new RawEvent(3, 99, Wire.EnqueuedAt, Wire.IngestedAt, payload);
        var outcome = new RawEventCleanser(options).Process(raw, Wire.NewState(3));

        var row = QuarantineRow.From(raw, outcome, options.MaxPayloadBytes);

        Assert.Equal("transaction.posted", outcome.EventType);
        Assert.Equal(QuarantineReasons.UnknownCurrency, row.Reason);
        Assert.Equal(payload, row.Payload.ToArray());
        Assert.Equal(payload.Length, row.PayloadBytes);
        Assert.Equal(3, row.SourcePartition);
        Assert.Equal(99, row.SourceOffset);
        Assert.Equal(new DateOnly(2026, 3, 1), row.IngestDate);

        var huge = new byte[5000];
        var tooLarge = new RawEvent(3, 100, Wire.EnqueuedAt, Wire.IngestedAt, huge);
        var cut = QuarantineRow.From(tooLarge, new RawEventCleanser(options).Process(tooLarge, Wire.NewState(3)), options.MaxPayloadBytes);
        Assert.Equal(1024, cut.Payload.Length);
        Assert.Equal(5000, cut.PayloadBytes);
        Assert.Null(cut.EventType);
    }
}
