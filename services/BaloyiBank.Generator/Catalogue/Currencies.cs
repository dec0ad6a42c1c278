namespace BaloyiBank.Generator;

/// <summary>Currencies the bank holds accounts in, with a rough ZAR rate to scale amounts.</summary>
internal sealed record CurrencyInfo(string Code, double ZarPerUnit)
{
    /// <summary>Converts a ZAR amount in cents to cents of this currency (half-even, like every rounding here).</summary>
    public long FromZarCents(double zarCents) => (long)Math.Round(zarCents / ZarPerUnit, MidpointRounding.ToEven);
}

internal static class Currencies
{
    public static readonly CurrencyInfo Zar = new("ZAR", 1.0);
    public static readonly CurrencyInfo Usd = new("USD", 18.0);
    public static readonly CurrencyInfo Eur = new("EUR", 19.5);
    public static readonly CurrencyInfo Gbp = new("GBP", 23.0);
    public static readonly CurrencyInfo Bwp = new("BWP", 1.33);
    public static readonly CurrencyInfo Nad = new("NAD", 1.0);

    public static readonly CurrencyInfo[] All = [Zar, Usd, Eur, Gbp, Bwp, Nad];

    /// <summary>A foreign-currency account of a South African resident.</summary>
    public static readonly WeightedTable<CurrencyInfo> ForeignForSouthAfrican = WeightedTable.Of((Usd, 50.0), (Eur, 25.0), (Gbp, 25.0));

    /// <summary>Codes that look like currencies but are not ISO 4217 (the unknown-currency defect).</summary>
    public static readonly string[] NotIso4217 = ["ZZZ", "XYZ", "ZAF", "RND", "ABC", "QQQ"];
}
