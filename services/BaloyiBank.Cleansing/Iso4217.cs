namespace BaloyiBank.Cleansing;

/// <summary>
/// Active ISO 4217 currency codes (list one, 2025), without XTS (testing) and XXX (no currency),
/// which never denominate a bank's money. Codes are upper case by the standard; lower case is
/// rejected rather than fixed, because a producer that writes "zar" is broken in ways a case
/// fold would hide.
/// </summary>
internal static class Iso4217
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

    // Indexed by the three letters (26³ slots): one array read per lookup, and the interned code
    // string comes back so that rows share it.
    private static readonly string?[] Codes = Build();

    public static IEnumerable<string> All => Codes.Where(code => code is not null)!;

    /// <summary>The interned code when <paramref name="utf8"/> is an active code in upper case; otherwise null.</summary>
    public static string? Find(ReadOnlySpan<byte> utf8) =>
        utf8.Length == 3 && IsUpper(utf8[0]) && IsUpper(utf8[1]) && IsUpper(utf8[2])
            ? Codes[Index(utf8[0], utf8[1], utf8[2])]
            : null;

    private static bool IsUpper(byte b) => b is >= (byte)'A' and <= (byte)'Z';

    private static int Index(int a, int b, int c) => ((a - 'A') * 26 * 26) + ((b - 'A') * 26) + (c - 'A');

    private static string?[] Build()
    {
        var codes = new string?[26 * 26 * 26];
        foreach (var code in ActiveCodes.Split(' '))
        {
            codes[Index(code[0], code[1], code[2])] = code;
        }

        return codes;
    }
}
