using System.Text;
using System.Text.Json;
using static BaloyiBank.Cleansing.QuarantineReasons;

namespace BaloyiBank.Cleansing;

// The single pass over the bytes. Every value is read where the reader stands; a fault is
// recorded (the first wins) and the pass goes on to the end, so that a payload broken later on
// is still malformed_json rather than whatever rule an earlier value happened to break.
public sealed partial class RawEventCleanser
{
    private void ReadEvent(ref Utf8JsonReader reader, ref EventContext c)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var token = reader.TokenType;
            if (SkipValue(ref reader, ref c))
            {
                EnsureEnd(ref reader);
                c.Fail(NotAnObject, $"The payload is a JSON {Describe(token)}, not an object.");
            }

            return;
        }

        reader.Read();
        // The contract writes the discriminator first; anything else costs one look-ahead.
        if (reader.TokenType == JsonTokenType.PropertyName && !reader.ValueIsEscaped && reader.ValueSpan.SequenceEqual("type"u8))
        {
            reader.Read();
            ReadType(ref reader, ref c);
            c.Seen |= WireShapes.Bit(Field.Type);
            c.NextGuess = 1;
            if (!SkipValue(ref reader, ref c))
            {
                return;
            }

            reader.Read();
        }
        else
        {
            LookAheadForType(reader, ref c);
            if (c.Abort)
            {
                return;
            }
        }

        while (reader.TokenType != JsonTokenType.EndObject)
        {
            ReadProperty(ref reader, ref c);
            if (c.Abort)
            {
                return;
            }

            reader.Read();
        }

        EnsureEnd(ref reader);
    }

    /// <summary>Finds <c>type</c> further into the object with a copy of the reader (a struct: the copy is an independent cursor).</summary>
    private static void LookAheadForType(Utf8JsonReader scan, ref EventContext c)
    {
        while (scan.TokenType == JsonTokenType.PropertyName)
        {
            var isType = scan.ValueTextEquals("type"u8);
            scan.Read();
            if (isType)
            {
                ReadType(ref scan, ref c);
                return;
            }

            if (!SkipValue(ref scan, ref c))
            {
                return;
            }

            scan.Read();
        }

        c.Fail(MissingField, "The event has no type.");
    }

    private static void ReadType(ref Utf8JsonReader reader, ref EventContext c)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            c.Fail(MissingField, "type is null.");
        }
        else if (reader.TokenType != JsonTokenType.String)
        {
            c.Fail(WrongType, $"type must be a string, not {Describe(reader.TokenType)}.");
        }
        else if ((reader.ValueIsEscaped ? null : WireShapes.ShapeOf(reader.ValueSpan)) is { } shape)
        {
            c.Shape = shape;
        }
        else
        {
            c.Fail(UnknownEventType, $"type '{Printable(reader.ValueSpan)}' is not a known event type.");
        }
    }

    private void ReadProperty(ref Utf8JsonReader reader, ref EventContext c)
    {
        var field = IdentifyField(ref reader, ref c, c.Shape?.Allowed ?? 0, prefix: null);
        if (field != Field.Unknown && c.Shape is { } shape)
        {
            c.NextGuess = Array.IndexOf(shape.Order, field) + 1;
        }

        reader.Read();
        if (c.Reason is not null || field == Field.Unknown)
        {
            SkipValue(ref reader, ref c);
            return;
        }

        ReadField(ref reader, ref c, field);
    }

    /// <summary>The field a property name stands for (Unknown when the shape does not read it), catching repeated names.</summary>
    private static Field IdentifyField(ref Utf8JsonReader reader, ref EventContext c, ulong allowed, string? prefix)
    {
        ReadOnlySpan<byte> name;
        if (!reader.ValueIsEscaped)
        {
            name = reader.ValueSpan;
        }
        else if (!TryUnescape(ref reader, ref c, "a property name", out name))
        {
            return Field.Unknown;
        }

        // The contract writes properties in a fixed order, so the next expected name usually matches at once.
        var order = prefix is null ? c.Shape?.Order : null;
        var field = order is not null && c.NextGuess < order.Length && WireShapes.Is(order[c.NextGuess], name)
            ? order[c.NextGuess]
            : WireShapes.FieldOf(name);
        if (field != Field.Unknown && (allowed & WireShapes.Bit(field)) != 0)
        {
            var bit = WireShapes.Bit(field);
            ref var seen = ref prefix is null ? ref c.Seen : ref c.Values.LocationSeen;
            if ((seen & bit) != 0)
            {
                c.Fail(DuplicateField, $"{prefix}{WireShapes.NameOf(field)} occurs twice.");
                return Field.Unknown;
            }

            seen |= bit;
            return field;
        }

        // Unknown names are allowed (producers may add optional fields within a version), but not twice.
        if (c.Shape is not null && c.Reason is null)
        {
            var text = prefix + Encoding.UTF8.GetString(name);
            c.UnknownNames ??= [];
            if (c.UnknownNames.Contains(text))
            {
                c.Fail(DuplicateField, $"{text} occurs twice.");
            }
            else
            {
                c.UnknownNames.Add(text);
            }
        }

        return Field.Unknown;
    }

    private void ReadField(ref Utf8JsonReader reader, ref EventContext c, Field field)
    {
        ref var e = ref c.Values;
        switch (field)
        {
            case Field.Type:
                SkipValue(ref reader, ref c); // read by the look-ahead
                break;
            case Field.SchemaVersion:
                if (ReadInt(ref reader, ref c, field, out var version) && version != Contracts.EventTypes.CurrentSchemaVersion)
                {
                    c.Fail(UnsupportedSchemaVersion, $"schemaVersion {version} is not supported (this build reads {Contracts.EventTypes.CurrentSchemaVersion}).");
                }

                e.SchemaVersion = version;
                break;
            case Field.EventId:
                e.EventId = ReadId(ref reader, ref c, field, IdUse.Unique);
                break;
            case Field.TransactionId:
                e.TransactionId = ReadId(ref reader, ref c, field, IdUse.Unique);
                break;
            case Field.PaymentId:
                e.PaymentId = ReadId(ref reader, ref c, field, IdUse.Unique);
                break;
            case Field.CustomerId:
                e.CustomerId = ReadId(ref reader, ref c, field, IdUse.Pooled);
                break;
            case Field.LoanId:
                e.LoanId = ReadId(ref reader, ref c, field, IdUse.Pooled);
                break;
            case Field.AccountId:
                e.AccountId = ReadId(ref reader, ref c, field, IdUse.Account);
                break;
            case Field.OccurredAt:
                ReadInstant(ref reader, ref c, field, out e.OccurredAt);
                break;
            case Field.FirstName:
                e.FirstName = ReadText(ref reader, ref c, field, pooled: true);
                break;
            case Field.LastName:
                e.LastName = ReadText(ref reader, ref c, field, pooled: true);
                break;
            case Field.Email:
                e.Email = ReadText(ref reader, ref c, field, pooled: false);
                break;
            case Field.City:
                e.City = ReadText(ref reader, ref c, field, pooled: true);
                break;
            case Field.Branch:
                e.Branch = ReadText(ref reader, ref c, field, pooled: true);
                break;
            case Field.MerchantName:
                e.MerchantName = ReadText(ref reader, ref c, field, pooled: true, optional: true);
                break;
            case Field.Counterparty:
                e.Counterparty = ReadText(ref reader, ref c, field, pooled: true, optional: true);
                break;
            case Field.Reference:
                e.Reference = ReadText(ref reader, ref c, field, pooled: true, optional: true);
                break;
            case Field.Country:
                e.Country = ReadCountry(ref reader, ref c, field);
                break;
            case Field.Currency:
                e.Currency = ReadCurrency(ref reader, ref c);
                break;
            case Field.DateOfBirth:
                ReadDate(ref reader, ref c, field, out e.DateOfBirth);
                break;
            case Field.FirstDueDate:
                ReadDate(ref reader, ref c, field, out e.FirstDueDate);
                break;
            case Field.DueDate:
                ReadDate(ref reader, ref c, field, out e.DueDate);
                break;
            case Field.Segment:
                e.Segment = ReadEnum(ref reader, ref c, field, Segments);
                break;
            case Field.AccountType:
                e.AccountType = ReadEnum(ref reader, ref c, field, AccountTypes);
                break;
            case Field.TransactionType:
                e.TransactionType = ReadEnum(ref reader, ref c, field, TransactionTypeNames);
                break;
            case Field.Channel:
                e.Channel = ReadEnum(ref reader, ref c, field, Channels);
                break;
            case Field.Product:
                e.Product = ReadEnum(ref reader, ref c, field, Products);
                break;
            case Field.MerchantCategory:
                e.MerchantCategory = ReadEnum(ref reader, ref c, field, MerchantCategories, optional: true);
                break;
            case Field.Amount:
                ReadScaled(ref reader, ref c, field, MoneyScale, Sign.Positive, out e.Amount);
                break;
            case Field.Principal:
                ReadScaled(ref reader, ref c, field, MoneyScale, Sign.Positive, out e.Principal);
                break;
            case Field.MonthlyInstalment:
                ReadScaled(ref reader, ref c, field, MoneyScale, Sign.Positive, out e.MonthlyInstalment);
                break;
            case Field.OpeningBalance:
                ReadScaled(ref reader, ref c, field, MoneyScale, Sign.NotNegative, out e.OpeningBalance);
                break;
            case Field.OverdraftLimit:
                ReadScaled(ref reader, ref c, field, MoneyScale, Sign.NotNegative, out e.OverdraftLimit);
                break;
            case Field.PrincipalPortion:
                ReadScaled(ref reader, ref c, field, MoneyScale, Sign.NotNegative, out e.PrincipalPortion);
                break;
            case Field.InterestPortion:
                ReadScaled(ref reader, ref c, field, MoneyScale, Sign.NotNegative, out e.InterestPortion);
                break;
            case Field.AnnualInterestRate:
                if (ReadScaled(ref reader, ref c, field, RateScale, Sign.NotNegative, out e.AnnualInterestRate) && e.AnnualInterestRate > 1_000_000)
                {
                    c.Fail(InvalidValue, "annualInterestRate is a fraction (0.1175 for 11.75 %) and must not exceed 1.");
                }

                break;
            case Field.TermMonths:
                if (ReadInt(ref reader, ref c, field, out e.TermMonths) && e.TermMonths is < 1 or > 600)
                {
                    c.Fail(InvalidValue, $"termMonths {e.TermMonths} is outside 1…600.");
                }

                break;
            case Field.InstalmentNumber:
                if (ReadInt(ref reader, ref c, field, out e.InstalmentNumber) && e.InstalmentNumber is < 1 or > 600)
                {
                    c.Fail(InvalidValue, $"instalmentNumber {e.InstalmentNumber} is outside 1…600.");
                }

                break;
            case Field.Location:
                ReadLocation(ref reader, ref c);
                break;
            default:
                SkipValue(ref reader, ref c);
                break;
        }
    }

    private static void ReadLocation(ref Utf8JsonReader reader, ref EventContext c)
    {
        if (!ExpectToken(ref reader, ref c, Field.Location, JsonTokenType.StartObject, "an object"))
        {
            return;
        }

        if (!CheckDepth(ref reader, ref c))
        {
            return;
        }

        ref var e = ref c.Values;
        reader.Read();
        while (reader.TokenType != JsonTokenType.EndObject)
        {
            var field = IdentifyField(ref reader, ref c, WireShapes.LocationFields, prefix: "location.");
            reader.Read();
            if (c.Reason is not null || field == Field.Unknown)
            {
                if (!SkipValue(ref reader, ref c))
                {
                    return;
                }
            }
            else if (field == Field.City)
            {
                e.LocationCity = ReadText(ref reader, ref c, field, pooled: true);
            }
            else if (field == Field.Country)
            {
                e.LocationCountry = ReadCountry(ref reader, ref c, field);
            }
            else
            {
                var latitude = field == Field.Latitude;
                if (ReadDouble(ref reader, ref c, field, out var degrees) && Math.Abs(degrees) > (latitude ? 90 : 180))
                {
                    c.Fail(InvalidValue, $"location.{WireShapes.NameOf(field)} {degrees} is outside ±{(latitude ? 90 : 180)} degrees.");
                }

                if (latitude)
                {
                    e.Latitude = degrees;
                }
                else
                {
                    e.Longitude = degrees;
                }
            }

            reader.Read();
        }

        var missing = WireShapes.LocationFields & ~e.LocationSeen;
        if (missing != 0)
        {
            c.Fail(MissingField, $"location has no {WireShapes.NameOf(WireShapes.First(missing))}.");
        }
    }

    private enum IdUse : byte
    {
        /// <summary>Unique per event (event, transaction and payment ids): allocated.</summary>
        Unique,
        /// <summary>Repeats across events (customer, loan): shared through the partition's pool.</summary>
        Pooled,
        /// <summary>An account: the string the partition already holds when it knows the account.</summary>
        Account,
    }

    /// <summary>Ids are 1–64 printable ASCII characters without spaces: they end up in keys, file stats and URLs.</summary>
    private static string? ReadId(ref Utf8JsonReader reader, ref EventContext c, Field field, IdUse use)
    {
        if (!ReadUtf8(ref reader, ref c, field, optional: false, out var bytes))
        {
            return null;
        }

        if (bytes.Length is 0 or > MaxIdLength)
        {
            c.Fail(InvalidValue, $"{WireShapes.NameOf(field)} must have 1 to {MaxIdLength} characters (got {bytes.Length} bytes).");
            return null;
        }

        Span<char> chars = stackalloc char[MaxIdLength];
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b is < 0x21 or > 0x7E)
            {
                c.Fail(InvalidValue, $"{WireShapes.NameOf(field)} '{Printable(bytes)}' has a character that is not printable ASCII at {i}.");
                return null;
            }

            chars[i] = (char)b;
        }

        var id = chars[..bytes.Length];
        switch (use)
        {
            case IdUse.Pooled:
                return c.State.Text.Intern(id);
            case IdUse.Account when c.State.TryGetAccount(id, out var known, out var currency):
                c.Values.AccountCurrency = currency;
                return known;
            default:
                return new string(id);
        }
    }

    /// <summary>Free text: trimmed, 1–256 characters, no control characters.</summary>
    private static string? ReadText(ref Utf8JsonReader reader, ref EventContext c, Field field, bool pooled, bool optional = false)
    {
        if (!ReadUtf8(ref reader, ref c, field, optional, out var bytes) || (optional && reader.TokenType == JsonTokenType.Null))
        {
            return null;
        }

        var scratch = c.State.CharScratch;
        if (bytes.Length > scratch.Length)
        {
            c.Fail(InvalidValue, $"{WireShapes.NameOf(field)} is longer than {MaxTextLength} characters.");
            return null;
        }

        var length = Encoding.UTF8.GetChars(bytes, scratch);
        var text = scratch.AsSpan(0, length).Trim();
        if (text.IsEmpty)
        {
            if (!optional)
            {
                c.Fail(InvalidValue, $"{WireShapes.NameOf(field)} is blank.");
            }

            return null;
        }

        if (text.Length > MaxTextLength)
        {
            c.Fail(InvalidValue, $"{WireShapes.NameOf(field)} is longer than {MaxTextLength} characters.");
            return null;
        }

        foreach (var ch in text)
        {
            if (char.IsControl(ch))
            {
                c.Fail(InvalidValue, $"{WireShapes.NameOf(field)} contains the control character U+{(int)ch:X4}.");
                return null;
            }
        }

        return pooled ? c.State.Text.Intern(text) : new string(text);
    }

    /// <summary>ISO 3166-1 alpha-2: two letters, upper-cased (a location label, not money: case is safe to fold).</summary>
    private static string? ReadCountry(ref Utf8JsonReader reader, ref EventContext c, Field field)
    {
        if (!ReadUtf8(ref reader, ref c, field, optional: false, out var bytes))
        {
            return null;
        }

        if (bytes.Length != 2 || !char.IsAsciiLetter((char)bytes[0]) || !char.IsAsciiLetter((char)bytes[1]))
        {
            c.Fail(InvalidValue, $"{WireShapes.NameOf(field)} '{Printable(bytes)}' is not an ISO 3166-1 alpha-2 code.");
            return null;
        }

        return CountryCodes[((char.ToUpperInvariant((char)bytes[0]) - 'A') * 26) + (char.ToUpperInvariant((char)bytes[1]) - 'A')];
    }

    private static string? ReadCurrency(ref Utf8JsonReader reader, ref EventContext c)
    {
        if (!ReadUtf8(ref reader, ref c, Field.Currency, optional: false, out var bytes))
        {
            return null;
        }

        var code = Iso4217.Find(bytes);
        if (code is null)
        {
            c.Fail(UnknownCurrency, $"currency '{Printable(bytes)}' is not an active ISO 4217 code in upper case.");
        }

        return code;
    }

    private static int ReadEnum(ref Utf8JsonReader reader, ref EventContext c, Field field, WireEnum members, bool optional = false)
    {
        if (!ReadUtf8(ref reader, ref c, field, optional, out var bytes) || (optional && reader.TokenType == JsonTokenType.Null))
        {
            return -1;
        }

        var index = members.IndexOf(bytes);
        if (index < 0)
        {
            c.Fail(InvalidValue, $"{WireShapes.NameOf(field)} '{Printable(bytes)}' is not one of {string.Join(", ", members.Names)}.");
        }

        return index;
    }

    private void ReadInstant(ref Utf8JsonReader reader, ref EventContext c, Field field, out DateTimeOffset instant)
    {
        instant = default;
        if (!ReadUtf8(ref reader, ref c, field, optional: false, out var bytes))
        {
            return;
        }

        if (!WireValues.TryReadInstant(bytes, out instant))
        {
            c.Fail(InvalidTimestamp, $"{WireShapes.NameOf(field)} '{Printable(bytes)}' is not an ISO 8601 instant with an offset (yyyy-MM-ddTHH:mm:ss[.fffffff]Z).");
        }
        else if (instant < _options.EarliestOccurredAt)
        {
            c.Fail(InvalidTimestamp, $"{WireShapes.NameOf(field)} {instant:O} is before {_options.EarliestOccurredAt:O} (Cleansing:EarliestOccurredAt).");
        }
    }

    private static void ReadDate(ref Utf8JsonReader reader, ref EventContext c, Field field, out DateOnly date)
    {
        date = default;
        if (ReadUtf8(ref reader, ref c, field, optional: false, out var bytes) && !WireValues.TryReadDate(bytes, out date))
        {
            c.Fail(InvalidTimestamp, $"{WireShapes.NameOf(field)} '{Printable(bytes)}' is not an ISO 8601 date (yyyy-MM-dd).");
        }
    }

    private enum Sign : byte
    {
        Positive,
        NotNegative,
    }

    private static bool ReadScaled(ref Utf8JsonReader reader, ref EventContext c, Field field, int scale, Sign sign, out long units)
    {
        units = 0;
        if (!ExpectToken(ref reader, ref c, field, JsonTokenType.Number, "a number"))
        {
            return false;
        }

        var name = WireShapes.NameOf(field);
        switch (WireValues.ReadScaled(reader.ValueSpan, scale, out units))
        {
            case DecimalVerdict.OutOfRange:
                c.Fail(AmountOutOfRange, $"{name} {Printable(reader.ValueSpan)} does not fit decimal({WireValues.DecimalPrecision},{scale}).");
                return false;
            case DecimalVerdict.TooPrecise:
                c.Fail(AmountPrecision, $"{name} {Printable(reader.ValueSpan)} has more than {scale} decimal places.");
                return false;
        }

        if (sign == Sign.Positive ? units <= 0 : units < 0)
        {
            c.Fail(NonPositiveAmount, $"{name} {Printable(reader.ValueSpan)} must be {(sign == Sign.Positive ? "above zero" : "zero or more")}.");
            return false;
        }

        return true;
    }

    private static bool ReadInt(ref Utf8JsonReader reader, ref EventContext c, Field field, out int value)
    {
        value = 0;
        if (!ExpectToken(ref reader, ref c, field, JsonTokenType.Number, "a whole number"))
        {
            return false;
        }

        if (!reader.TryGetInt32(out value))
        {
            c.Fail(WrongType, $"{WireShapes.NameOf(field)} {Printable(reader.ValueSpan)} is not a 32-bit whole number.");
            return false;
        }

        return true;
    }

    private static bool ReadDouble(ref Utf8JsonReader reader, ref EventContext c, Field field, out double value)
    {
        value = 0;
        if (!ExpectToken(ref reader, ref c, field, JsonTokenType.Number, "a number"))
        {
            return false;
        }

        if (!WireValues.TryReadShortDecimal(reader.ValueSpan, out value) && (!reader.TryGetDouble(out value) || !double.IsFinite(value)))
        {
            c.Fail(InvalidValue, $"location.{WireShapes.NameOf(field)} {Printable(reader.ValueSpan)} is not a finite number.");
            return false;
        }

        return true;
    }

    /// <summary>A string value's UTF-8 bytes, unescaped when needed. Null is missing (or, when optional, absent).</summary>
    private static bool ReadUtf8(ref Utf8JsonReader reader, ref EventContext c, Field field, bool optional, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (optional && reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (!ExpectToken(ref reader, ref c, field, JsonTokenType.String, "a string"))
        {
            return false;
        }

        if (!reader.ValueIsEscaped)
        {
            bytes = reader.ValueSpan;
            return true;
        }

        return TryUnescape(ref reader, ref c, WireShapes.NameOf(field), out bytes);
    }

    private static bool TryUnescape(scoped ref Utf8JsonReader reader, scoped ref EventContext c, string what, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        var scratch = c.State.ByteScratch;
        // Unescaping never lengthens: what does not fit escaped is too long for any field anyway.
        if (reader.ValueSpan.Length > scratch.Length)
        {
            c.Fail(InvalidValue, $"{what} is longer than {scratch.Length} bytes.");
            return false;
        }

        try
        {
            bytes = scratch.AsSpan(0, reader.CopyString(scratch));
            return true;
        }
        catch (InvalidOperationException)
        {
            c.Fail(InvalidUtf8, $"{what} escapes a lone UTF-16 surrogate.");
            return false;
        }
    }

    /// <summary>Checks the token type; null is a missing value, anything else a wrong type (skipped, nesting checked).</summary>
    private static bool ExpectToken(ref Utf8JsonReader reader, ref EventContext c, Field field, JsonTokenType expected, string what)
    {
        if (reader.TokenType == expected)
        {
            return true;
        }

        var name = field == Field.Latitude || field == Field.Longitude || (field is Field.City or Field.Country && c.Values.LocationSeen != 0)
            ? "location." + WireShapes.NameOf(field)
            : WireShapes.NameOf(field);
        if (reader.TokenType == JsonTokenType.Null)
        {
            c.Fail(MissingField, $"{name} is null.");
        }
        else
        {
            c.Fail(WrongType, $"{name} must be {what}, not {Describe(reader.TokenType)}.");
            SkipValue(ref reader, ref c);
        }

        return false;
    }

    /// <summary>Steps over the value the reader stands on; false (and a nesting fault) when it nests too deep.</summary>
    private static bool SkipValue(ref Utf8JsonReader reader, ref EventContext c)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return true;
        }

        if (!CheckDepth(ref reader, ref c))
        {
            return false;
        }

        var depth = reader.CurrentDepth;
        while (reader.Read())
        {
            var token = reader.TokenType;
            if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                if (!CheckDepth(ref reader, ref c))
                {
                    return false;
                }
            }
            else if (token is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == depth)
            {
                return true;
            }
        }

        return true;
    }

    private static bool CheckDepth(ref Utf8JsonReader reader, ref EventContext c)
    {
        if (reader.CurrentDepth + 1 <= c.MaxNestingDepth)
        {
            return true;
        }

        // Terminal: the first fault may already be set, but this one stops the parse and is the one to report.
        c.Reason = NestingTooDeep;
        c.Detail = $"Containers nest deeper than {c.MaxNestingDepth} levels (Cleansing:MaxNestingDepth).";
        c.Abort = true;
        return false;
    }

    /// <summary>Nothing but whitespace may follow the root value.</summary>
    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException($"Unexpected {Describe(reader.TokenType)} after the end of the event at byte {reader.TokenStartIndex}.");
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
