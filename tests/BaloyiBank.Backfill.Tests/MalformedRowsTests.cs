using System.Text;
using System.Text.Json;
using BaloyiBank.Cli.Backfill;

namespace BaloyiBank.Backfill.Tests;

/// <summary>
/// Acceptance 2 of issue 19: rows broken in nine ways land in quarantine with their file, line and reason; every
/// other row loads; consumed = silver + quarantined (+ duplicates) still holds.
/// </summary>
public sealed class MalformedRowsTests
{
    private const string Day = "2026-01-01T";

    [Fact]
    public async Task Each_broken_row_is_quarantined_with_file_line_and_reason_and_everything_else_loads()
    {
        using var scratch = new Scratch();
        var csv = Directory.CreateDirectory(scratch.Sub("csv")).FullName;
        var data = scratch.Sub("data");
        var expected = new List<(string File, int Line, string Reason)>();

        var customers = new CsvFile(csv, CsvLayouts.Customers);
        customers.Good($"CUS-1,{Day}09:00:00Z,Thandi,Nkosi,thandi@example.com,1990-04-01,retail,Durban,ZA");
        customers.Good($"CUS-2,{Day}09:00:01Z,Pieter,Botha,pieter@example.com,1985-11-30,premier,Cape Town,ZA");
        expected.Add(customers.Bad($"CUS-3,2026-13-01T09:00:00Z,Ann,Lee,ann@example.com,1990-01-01,retail,Durban,ZA", RejectReasons.BadDate));
        expected.Add(customers.Bad($"CUS-4,{Day}09:00:02Z,Ann,Lee,ann@example.com,1990-01-01,vip,Durban,ZA", RejectReasons.BadEnum));
        expected.Add(customers.Bad($",{Day}09:00:03Z,Ann,Lee,ann@example.com,1990-01-01,retail,Durban,ZA", RejectReasons.MissingKey));
        expected.Add(customers.Bad($"CUS-5,{Day}09:00:04Z,Ann,Lee,ann@example.com,1990-01-01,retail,Durban", RejectReasons.WrongColumnCount));
        // Latin-1 é (0xE9) on its own is not UTF-8.
        expected.Add(customers.BadBytes([.. Encoding.ASCII.GetBytes($"CUS-6,{Day}09:00:05Z,Ren"), 0xE9, .. Encoding.ASCII.GetBytes(",Lee,ren@example.com,1990-01-01,retail,Durban,ZA")], RejectReasons.BadEncoding));
        customers.Good($"CUS-7,{Day}09:00:06Z,Sipho,\"Dlamini, Jr\",sipho@example.com,1979-02-14,business,Johannesburg,ZA");
        customers.Write();

        var accounts = new CsvFile(csv, CsvLayouts.Accounts);
        accounts.Good($"ACC-1,{Day}09:30:00Z,CUS-1,cheque,ZAR,1000.00,500.00,Durban Central");
        accounts.Good($"ACC-2,{Day}09:30:01Z,CUS-2,savings,ZAR,25000.00,0.00,Sea Point");
        expected.Add(accounts.Bad($"ACC-3,{Day}09:30:02Z,CUS-2,cheque,ZZZ,0.00,0.00,Sea Point", RejectReasons.UnknownCurrency));
        expected.Add(accounts.Bad($"ACC-4,{Day}09:30:03Z,CUS-2,cheque,ZAR,12.5x,0.00,Sea Point", RejectReasons.BadNumber));
        expected.Add(accounts.Bad($"ACC-5,{Day}09:30:04Z,CUS-2,cheque,ZAR,1.005,0.00,Sea Point", RejectReasons.BadNumber));
        accounts.Write();

        var transactions = new CsvFile(csv, CsvLayouts.Transactions);
        transactions.Good($"TXN-1,{Day}10:00:00Z,ACC-1,CUS-1,card_purchase,120.50,ZAR,card,groceries,Checkers,,,Durban,ZA,-29.8587,31.0218");
        // A quoted merchant name across two lines: the lines after it must still be numbered right. Backfill takes it;
        // cleansing refuses the control character (invalid_value), and its quarantine row names this line.
        var multiline = transactions.Good($"TXN-2,{Day}10:01:00Z,ACC-1,CUS-1,card_purchase,80.00,ZAR,card,restaurants,\"Spur\nUmhlanga\",,,Durban,ZA,-29.72,31.08", lines: 2);
        transactions.Good($"TXN-3,{Day}10:02:00+02:00,ACC-2,CUS-2,deposit,500.00,ZAR,branch,,,,SALARY,Cape Town,ZA,-33.9249,18.4241");
        expected.Add(transactions.Bad($"TXN-4,{Day}10:03:00Z,ACC-1,CUS-1,withdrawal,abc,ZAR,atm,,,,,Durban,ZA,-29.8587,31.0218", RejectReasons.BadNumber));
        expected.Add(transactions.Bad($"TXN-5,2026-01-01 10:04:00,ACC-1,CUS-1,withdrawal,10.00,ZAR,atm,,,,,Durban,ZA,-29.8587,31.0218", RejectReasons.BadDate));
        expected.Add(transactions.Bad($"TXN-6,{Day}10:05:00Z,ACC-1,CUS-1,withdrawal,10.00,,atm,,,,,Durban,ZA,-29.8587,31.0218", RejectReasons.MissingValue));
        expected.Add(transactions.Bad($"TXN-1,{Day}10:06:00Z,ACC-1,CUS-1,withdrawal,10.00,ZAR,atm,,,,,Durban,ZA,-29.8587,31.0218", RejectReasons.DuplicateKey));
        expected.Add(transactions.Bad($"TXN-7,{Day}10:07:00Z,ACC-1,CUS-1,withdrawal,10.00,zar,atm,,,,,Durban,ZA,-29.8587,31.0218", RejectReasons.UnknownCurrency));
        expected.Add(transactions.Bad($"TXN-8,{Day}10:08:00Z,ACC-1,CUS-1,withdrawal,10.00,ZAR,atm,,,,,Durban,ZA,south,31.0218", RejectReasons.BadNumber));
        expected.Add(transactions.Bad($"TXN-9,{Day}10:09:00Z,ACC-1,CUS-1,withdrawal,10.00,ZAR,atm,,,,,Durban,ZA,-29.8587,31.0218,extra", RejectReasons.WrongColumnCount));
        // Well-formed but against a business rule: backfill passes it on, cleansing quarantines it, the payload keeps file and line.
        var negative = transactions.Good($"TXN-10,{Day}10:10:00Z,ACC-1,CUS-1,withdrawal,-5.00,ZAR,atm,,,,,Durban,ZA,-29.8587,31.0218");
        transactions.Good($"TXN-11,{Day}10:11:00Z,ACC-2,CUS-2,transfer_out,100.00,ZAR,online,,,ACC-1,RENT,Cape Town,ZA,-33.9249,18.4241");
        transactions.Write();

        var loans = new CsvFile(csv, CsvLayouts.Loans);
        loans.Good($"LN-1,{Day}10:05:00Z,CUS-1,ACC-1,personal,20000.00,ZAR,0.1175,24,938.88,2026-02-01");
        expected.Add(loans.Bad($"LN-2,{Day}10:05:01Z,CUS-1,ACC-1,personal,20000.00,ZAR,0.1175,24.5,938.88,2026-02-01", RejectReasons.BadNumber));
        loans.Write();

        var payments = new CsvFile(csv, CsvLayouts.LoanPayments);
        payments.Good($"LPM-1,{Day}10:20:00Z,LN-1,CUS-1,ACC-1,938.88,743.05,195.83,ZAR,2026-01-01,1");
        expected.Add(payments.Bad($"LPM-2,{Day}10:21:00Z,LN-1,CUS-1,ACC-1,938.88,743.05,195.83,ZAR,31/01/2026,2", RejectReasons.BadDate));
        payments.Write();

        Assert.True(expected.Select(e => e.Reason).Distinct().Count() >= 8);
        await Baloyi.RunAsync("backfill", "--from", csv, "--data", data);
        await Baloyi.RunAsync("run", "--no-generator", "--data", data);

        var quarantine = await Lakehouse.RowsAsync(data, "silver/quarantine", "reason, decode(payload)");
        var found = quarantine.Select(row =>
        {
            var bar = row.IndexOf('|', StringComparison.Ordinal);
            using var json = JsonDocument.Parse(row[(bar + 1)..]);
            var source = json.RootElement.GetProperty("backfill");
            var reason = source.TryGetProperty("reason", out var r) ? r.GetString()! : row[..bar];
            return (File: source.GetProperty("file").GetString()!, Line: source.GetProperty("line").GetInt32(), Reason: reason, Cleansing: row[..bar]);
        }).ToList();
        var refused = found.Where(f => f.Cleansing == "unknown_event_type").Select(f => (f.File, f.Line, f.Reason)).Order().ToList();
        Assert.Equal(expected.Order().ToList(), refused);
        var business = found.Where(f => f.Cleansing != "unknown_event_type").Select(f => (f.File, f.Line, f.Reason)).Order().ToList();
        Assert.Equal([("transactions.csv", multiline, "invalid_value"), ("transactions.csv", negative, "non_positive_amount")], business);

        Assert.Equal(["CUS-1", "CUS-2", "CUS-7"], await Lakehouse.RowsAsync(data, "silver/customers", "customer_id"));
        Assert.Contains("Dlamini, Jr", (await Lakehouse.RowsAsync(data, "silver/customers", "last_name")));
        Assert.Equal(["ACC-1", "ACC-2"], await Lakehouse.RowsAsync(data, "silver/accounts", "account_id"));
        Assert.Equal(["TXN-1", "TXN-11", "TXN-3"], await Lakehouse.RowsAsync(data, "silver/transactions", "transaction_id"));
        Assert.Equal(["LN-1"], await Lakehouse.RowsAsync(data, "silver/loans", "loan_id"));
        Assert.Equal(["LPM-1"], await Lakehouse.RowsAsync(data, "silver/loan_payments", "payment_id"));

        // consumed = silver + quarantined + duplicates, from cleansing's own audit.
        var audit = await Lakehouse.RowsAsync(data, "silver/_cleansing_batches", "SUM(consumed), SUM(valid), SUM(quarantined), SUM(duplicates)");
        Assert.Equal($"{3 + 2 + 5 + 1 + 1 + expected.Count}|{3 + 2 + 3 + 1 + 1}|{expected.Count + 2}|0", Assert.Single(audit));
    }

    [Fact]
    public async Task A_header_that_does_not_match_is_refused_with_the_expected_columns_on_one_line_and_exit_code_2()
    {
        using var scratch = new Scratch();
        var csv = Directory.CreateDirectory(scratch.Sub("csv")).FullName;
        foreach (var layout in CsvLayouts.All)
        {
            await File.WriteAllTextAsync(Path.Combine(csv, layout.FileName), layout.Header + "\n");
        }

        await File.WriteAllTextAsync(Path.Combine(csv, "accounts.csv"), "account_id,customer_id,opened_at,account_type,currency,opening_balance,overdraft_limit,branch\n");
        var (code, error) = await Baloyi.InvokeAsync("backfill", "--from", csv, "--data", scratch.Sub("data"));
        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("accounts.csv", line, StringComparison.Ordinal);
        Assert.Contains("expected columns " + CsvLayouts.Accounts.Header, line, StringComparison.Ordinal);
        Assert.Contains("Fix:", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(scratch.Sub("data"), "log")), "nothing may be written before the headers are checked");
    }

    [Fact]
    public void The_currency_list_is_cleansings_own()
    {
        var iso = typeof(BaloyiBank.Cleansing.QuarantineReasons).Assembly.GetType("BaloyiBank.Cleansing.Iso4217", throwOnError: true)!;
        var codes = (IEnumerable<string>)iso.GetProperty("All")!.GetValue(null)!;
        Assert.Equal(codes.Order(StringComparer.Ordinal), CurrencyCodes.All.Order(StringComparer.Ordinal));
    }

    /// <summary>A CSV file written line by line, knowing each row's line number.</summary>
    private sealed class CsvFile(string folder, CsvLayout layout)
    {
        private readonly MemoryStream _bytes = new();
        private int _nextLine = 2;

        public int Good(string row, int lines = 1) => Add(Encoding.UTF8.GetBytes(row), lines);

        public (string, int, string) Bad(string row, string reason) => (layout.FileName, Add(Encoding.UTF8.GetBytes(row), 1), reason);

        public (string, int, string) BadBytes(byte[] row, string reason) => (layout.FileName, Add(row, 1), reason);

        public void Write()
        {
            using var file = File.Create(Path.Combine(folder, layout.FileName));
            file.Write(Encoding.UTF8.GetBytes(layout.Header + "\n"));
            _bytes.WriteTo(file);
        }

        private int Add(byte[] row, int lines)
        {
            var line = _nextLine;
            _bytes.Write(row);
            _bytes.WriteByte((byte)'\n');
            _nextLine += lines;
            return line;
        }
    }
}
