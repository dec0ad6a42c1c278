using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using BaloyiBank.Contracts;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BaloyiBank.Generator.Tests;

public sealed class PayloadDamageTests
{
    private static readonly byte[] Sample = BankEventSerializer.Serialize(new TransactionPosted
    {
        EventId = "6f1c2a4e-0000-4000-8000-000000000001",
        OccurredAt = new DateTimeOffset(2026, 1, 2, 10, 30, 0, TimeSpan.Zero),
        TransactionId = "TXN-0000000001",
        AccountId = "ACC-00000001",
        CustomerId = "CUS-00000001",
        TransactionType = TransactionType.CardPurchase,
        Amount = 123.45m,
        Currency = "ZAR",
        Channel = Channel.Card,
        MerchantCategory = MerchantCategory.Groceries,
        MerchantName = "Karoo Fresh Market",
        Location = new GeoLocation("Durban", "ZA", -29.8587, 31.0218),
    });

    [Fact]
    public void Every_malformation_leaves_bytes_no_parser_accepts()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, 2)), Arb.From(ArbMap.Default.GeneratorFor<ulong>()), (variant, seed) =>
        {
            var damaged = PayloadDamage.Malform(Sample, (byte)variant, seed);
            Assert.False(Parses(damaged), Encoding.Latin1.GetString(damaged));
            Assert.True(variant != PayloadDamage.InvalidUtf8 || !Utf8.IsValid(damaged));
            Assert.ThrowsAny<JsonException>(() => BankEventSerializer.Deserialize(damaged));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500));
    }

    [Fact]
    public void A_missing_field_is_really_missing_and_the_rest_is_intact()
    {
        foreach (var field in PayloadDamage.DroppableFields)
        {
            var dropped = PayloadDamage.DropField(Sample, field);
            using var document = JsonDocument.Parse(dropped);
            var names = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
            Assert.DoesNotContain(field, names);
            using var original = JsonDocument.Parse(Sample);
            Assert.Equal(original.RootElement.EnumerateObject().Count() - 1, names.Count);
            Assert.ThrowsAny<JsonException>(() => BankEventSerializer.Deserialize(dropped));
        }
    }

    [Fact]
    public void Amounts_keep_two_decimal_places_on_the_wire()
    {
        Assert.Contains("\"amount\":123.45", Encoding.UTF8.GetString(Sample), StringComparison.Ordinal);
        var whole = BankEventSerializer.Serialize(new AccountOpened
        {
            EventId = "e", OccurredAt = DateTimeOffset.UnixEpoch, AccountId = "ACC-1", CustomerId = "CUS-1",
            AccountType = AccountType.Savings, Currency = "ZAR", OpeningBalance = Money.FromCents(100), OverdraftLimit = Money.FromCents(0), Branch = "b",
        });
        Assert.Contains("\"openingBalance\":1.00,\"overdraftLimit\":0.00", Encoding.UTF8.GetString(whole), StringComparison.Ordinal);
    }

    private static bool Parses(byte[] bytes)
    {
        if (!Utf8.IsValid(bytes))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
