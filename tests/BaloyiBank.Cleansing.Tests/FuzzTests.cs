using System.Text;
using Xunit.Abstractions;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>
/// Thousands of broken payloads of many kinds through one partition: nothing throws, each is
/// quarantined with the reason its kind calls for, and a valid event afterwards is still valid.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private static readonly string[] AnyReason = [.. QuarantineReasons.All];

    [Fact]
    public void Broken_payloads_are_quarantined_with_a_specific_reason_and_never_throw()
    {
        var random = new Random(20260301);
        var cases = new List<(string Kind, byte[] Payload, string[] Reasons)>();
        void Add(string kind, byte[] payload, params string[] reasons) => cases.Add((kind, payload, reasons));

        var templates = Wire.AllTypes.Select(Wire.Bytes).ToArray();

        // 1. Random bytes.
        for (var i = 0; i < 2_000; i++)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            Add("random bytes", bytes, AnyReason);
        }

        // 2. Random printable ASCII (gets past the UTF-8 check, so the JSON reader does the work).
        for (var i = 0; i < 1_000; i++)
        {
            const string alphabet = "{}[]\":,0123456789.-eE truefalsnl\\";
            var chars = new char[random.Next(1, 120)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            Add("random json-ish text", Encoding.ASCII.GetBytes(chars), AnyReason);
        }

        foreach (var template in templates)
        {
            // 3. Truncation at every position: every proper prefix of an object is unparseable.
            for (var length = 0; length < template.Length; length++)
            {
                Add("truncated", template[..length], QuarantineReasons.MalformedJson);
            }

            // 4. The high bit flipped on any byte of ASCII text is never valid UTF-8.
            for (var at = 0; at < template.Length; at++)
            {
                var flipped = (byte[])template.Clone();
                flipped[at] ^= 0x80;
                Add("high bit flip", flipped, QuarantineReasons.InvalidUtf8);
            }

            // 5. A control byte inserted anywhere (between tokens, in strings, in numbers).
            for (var at = 0; at <= template.Length; at++)
            {
                foreach (var control in new[] { (byte)random.Next(0x00, 0x09), (byte)random.Next(0x0E, 0x20) })
                {
                    Add("control byte", [.. template[..at], control, .. template[at..]], QuarantineReasons.MalformedJson);
                }
            }

            // 6. Trailing garbage.
            foreach (var tail in new[] { "x", "}", "{}", ",", "]", "\"", "0", "null" })
            {
                Add("trailing garbage", [.. template, .. Encoding.ASCII.GetBytes(tail)], QuarantineReasons.MalformedJson);
            }

            // 7. A byte order mark.
            Add("bom", [0xEF, 0xBB, 0xBF, .. template], QuarantineReasons.MalformedJson);
        }

        // 8. Invalid UTF-8 sequences placed inside a string value.
        byte[][] invalidSequences = [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFF], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xF4, 0x90, 0x80, 0x80]];
        var transaction = Wire.Bytes(Wire.Transaction);
        var nameStart = Wire.Transaction.IndexOf("Pick", StringComparison.Ordinal);
        for (var shift = 0; shift < 10; shift++)
        {
            foreach (var sequence in invalidSequences)
            {
                var at = nameStart + shift;
                Add("invalid utf-8", [.. transaction[..at], .. sequence, .. transaction[at..]], QuarantineReasons.InvalidUtf8);
            }
        }

        // 9. Deep nesting, 10,000 levels, at the root and inside an event.
        Add("deep nesting", Encoding.ASCII.GetBytes(new string('[', 10_000) + new string(']', 10_000)), QuarantineReasons.NestingTooDeep);
        Add("deep nesting", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000)), QuarantineReasons.NestingTooDeep);
        Add("deep nesting", Encoding.ASCII.GetBytes("{\"type\":\"transaction.posted\",\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}"), QuarantineReasons.NestingTooDeep);
        Add("deep nesting unclosed", Encoding.ASCII.GetBytes(new string('[', 10_000)), QuarantineReasons.NestingTooDeep);

        // 10. Huge strings over the limit.
        foreach (var size in new[] { 64 * 1024 + 1, 100_000, 1_000_000 })
        {
            Add("huge", Wire.Bytes(Wire.Transaction.Replace("Pick n Pay", new string('p', size), StringComparison.Ordinal)), QuarantineReasons.PayloadTooLarge);
        }

        // 11. Numbers at the edges.
        (string Literal, string Reason)[] numbers =
        [
            ("1e400", QuarantineReasons.AmountOutOfRange), ("-1e400", QuarantineReasons.AmountOutOfRange),
            ("12345678901234567890.12", QuarantineReasons.AmountOutOfRange), ("1e16", QuarantineReasons.AmountOutOfRange),
            ("0.001", QuarantineReasons.AmountPrecision), ("1e-400", QuarantineReasons.AmountPrecision), ("123.456", QuarantineReasons.AmountPrecision),
            ("-0", QuarantineReasons.NonPositiveAmount), ("0", QuarantineReasons.NonPositiveAmount), ("-0.0e5", QuarantineReasons.NonPositiveAmount), ("-5.00", QuarantineReasons.NonPositiveAmount),
            ("NaN", QuarantineReasons.MalformedJson), ("Infinity", QuarantineReasons.MalformedJson), ("-Infinity", QuarantineReasons.MalformedJson),
            ("+1", QuarantineReasons.MalformedJson), ("01", QuarantineReasons.MalformedJson), (".5", QuarantineReasons.MalformedJson), ("1.", QuarantineReasons.MalformedJson), ("0x10", QuarantineReasons.MalformedJson),
            ("\"NaN\"", QuarantineReasons.WrongType), ("\"Infinity\"", QuarantineReasons.WrongType), ("\"12.50\"", QuarantineReasons.WrongType),
        ];
        foreach (var (literal, reason) in numbers)
        {
            Add("number " + literal, Wire.Bytes(Wire.Transaction.Replace("123.45", literal, StringComparison.Ordinal)), reason);
        }

        // 12. Wrong types for every property of every event type (and null: missing, unless optional).
        foreach (var template in Wire.AllTypes)
        {
            foreach (var (name, value) in TopLevelProperties(template))
            {
                var isNumber = value.Length > 0 && (char.IsAsciiDigit(value[0]) || value[0] == '-');
                var isObject = value.StartsWith('{');
                foreach (var replacement in new[] { "true", "[]", "{}", isNumber ? "\"1\"" : "1" })
                {
                    if (replacement == "{}" && isObject)
                    {
                        continue;
                    }

                    Add("wrong type " + name, Wire.Bytes(ReplaceValue(template, name, value, replacement)), QuarantineReasons.WrongType);
                }

                var optional = name is "merchantCategory" or "merchantName" or "counterparty" or "reference";
                if (!optional)
                {
                    Add("null " + name, Wire.Bytes(ReplaceValue(template, name, value, "null")), QuarantineReasons.MissingField);
                }

                // 13. Each property twice.
                Add("duplicate " + name, Wire.Bytes(template[..^1] + $",\"{name}\":{value}}}"), QuarantineReasons.DuplicateField);
            }
        }

        foreach (var (name, value) in new[] { ("city", "\"Johannesburg\""), ("country", "\"za\""), ("latitude", "-26.2041"), ("longitude", "28.0473") })
        {
            foreach (var replacement in new[] { "true", "[]", "{}", name.EndsWith("tude", StringComparison.Ordinal) ? "\"1\"" : "1" })
            {
                Add("wrong type location." + name, Wire.Bytes(Wire.Transaction.Replace($"\"{name}\":{value}", $"\"{name}\":{replacement}", StringComparison.Ordinal)), QuarantineReasons.WrongType);
            }
        }

        // 14. Unknown types and versions.
        foreach (var type in new[] { "transaction.reversed", "Transaction.Posted", "", "transaction.posted ", "TRANSACTION.POSTED" })
        {
            Add("unknown type", Wire.Bytes(Wire.Transaction.Replace("\"transaction.posted\"", $"\"{type}\"", StringComparison.Ordinal)), QuarantineReasons.UnknownEventType);
        }

        foreach (var version in new[] { "0", "2", "-1", "99999" })
        {
            Add("unknown version", Wire.Bytes(Wire.Transaction.Replace("\"schemaVersion\":1", $"\"schemaVersion\":{version}", StringComparison.Ordinal)), QuarantineReasons.UnsupportedSchemaVersion);
        }

        // 15. Empty, blank, and JSON that is not an object.
        Add("empty", [], QuarantineReasons.MalformedJson);
        Add("blank", Encoding.ASCII.GetBytes(" \r\n\t "), QuarantineReasons.MalformedJson);
        foreach (var literal in new[] { "[]", "[1,2,3]", "\"text\"", "123", "-0.5", "true", "false", "null", "[{\"type\":\"transaction.posted\"}]" })
        {
            Add("not an object", Encoding.ASCII.GetBytes(literal), QuarantineReasons.NotAnObject);
        }

        var cleanser = new RawEventCleanser();
        var state = Wire.NewState();
        var failures = new List<string>();
        var byKind = new SortedDictionary<string, int>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (kind, payload, reasons) in cases)
        {
            var family = kind.Split(' ')[0];
            byKind[family] = byKind.GetValueOrDefault(family) + 1;
            CleansingOutcome outcome;
            try
            {
                outcome = Wire.Run(cleanser, state, payload, offset++);
            }
            catch (Exception exception)
            {
                failures.Add($"{kind}: threw {exception.GetType().Name}: {exception.Message}");
                continue;
            }

            if (outcome.Kind != OutcomeKind.Quarantined || !reasons.Contains(outcome.Reason))
            {
                failures.Add($"{kind}: expected {string.Join("|", reasons.Take(3))}, got {outcome} for {Printable(payload)}");
            }
        }

        output.WriteLine($"{cases.Count:N0} payloads of {byKind.Count} families: " + string.Join(", ", byKind.Select(k => $"{k.Key} {k.Value}")));
        foreach (var failure in failures.Take(20))
        {
            output.WriteLine(failure);
        }

        Assert.Empty(failures);
        Assert.True(cases.Count >= 10_000, $"only {cases.Count} cases");
        Assert.True(byKind.Count >= 12, $"only {byKind.Count} families");

        // The partition is unharmed: a valid event still goes through, a new transaction id is still new.
        var after = Wire.Run(cleanser, state, Wire.Bytes(Wire.Edit(Wire.Transaction, o => o["transactionId"] = "TXN-after-fuzz")), offset);
        Assert.Equal(OutcomeKind.Valid, after.Kind);
        Assert.Equal(OutcomeKind.Valid, Wire.Run(cleanser, state, Wire.Bytes(Wire.Transaction), offset + 1).Kind);
    }

    [Fact]
    public void Random_bit_flips_never_throw_and_end_valid_or_with_a_known_reason()
    {
        var random = new Random(7);
        var cleanser = new RawEventCleanser();
        var state = Wire.NewState();
        var templates = Wire.AllTypes.Select(Wire.Bytes).ToArray();
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 5_000; i++)
        {
            var payload = (byte[])templates[random.Next(templates.Length)].Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                payload[random.Next(payload.Length)] ^= (byte)(1 << random.Next(7));
            }

            // A flip may land in a text value and leave a valid event; its id is made unique so none is a duplicate.
            var outcome = Wire.Run(cleanser, Wire.NewState(), payload, i);
            var key = outcome.Kind == OutcomeKind.Quarantined ? outcome.Reason! : outcome.Kind.ToString();
            Assert.True(outcome.Kind != OutcomeKind.Quarantined || QuarantineReasons.All.Contains(outcome.Reason!), key);
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }

        output.WriteLine(string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")));
        Assert.Equal(OutcomeKind.Valid, Wire.Run(cleanser, state, Wire.Bytes(Wire.Transaction)).Kind);
    }

    /// <summary>The top-level properties of a template as raw name and value text.</summary>
    private static List<(string Name, string Value)> TopLevelProperties(string json)
    {
        var properties = new List<(string, string)>();
        var reader = new System.Text.Json.Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var end = (int)reader.BytesConsumed;
            properties.Add((name, json[start..end]));
        }

        return properties;
    }

    private static string ReplaceValue(string json, string name, string value, string replacement) =>
        json.Replace($"\"{name}\":{value}", $"\"{name}\":{replacement}", StringComparison.Ordinal);

    private static string Printable(byte[] payload) =>
        payload.Length > 120 ? Encoding.UTF8.GetString(payload, 0, 120) + "…" : Encoding.UTF8.GetString(payload);
}
