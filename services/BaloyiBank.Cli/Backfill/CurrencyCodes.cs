namespace BaloyiBank.Cli.Backfill;

/// <summary>
/// The active ISO 4217 codes cleansing accepts (its own list is internal to it; a test pins the two as equal), so a
/// backfill row with another currency is rejected with its file and line instead of reaching the log.
/// </summary>
internal static class CurrencyCodes
{
    private const string ActiveCodes =
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP " +
        "BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB " +
        "EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY " +
        "KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR " +
        "MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB " +
        "RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD " +
        "TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG " +
        "XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL";

    private static readonly HashSet<string> Codes = new(ActiveCodes.Split(' '), StringComparer.Ordinal);

    public static IReadOnlyCollection<string> All => Codes;

    /// <summary>The interned code when <paramref name="text"/> is an active code in upper case; otherwise null.</summary>
    public static string? Find(ReadOnlySpan<char> text) =>
        Codes.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(text, out var code) ? code : null;
}
