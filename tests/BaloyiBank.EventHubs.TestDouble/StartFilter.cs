using System.Globalization;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>
/// Parses the start position the SDK puts on a receive link: one <c>apache.org:selector-filter:string</c>
/// whose text is <c>amqp.annotation.x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time &gt;|&gt;= value</c>.
/// </summary>
internal static class StartFilter
{
    private const string SelectorFilterName = "apache.org:selector-filter:string";
    private const ulong SelectorFilterCode = 0x0000013700000000A;
    private const string OffsetName = "amqp.annotation.x-opt-offset";
    private const string SequenceName = "amqp.annotation.x-opt-sequence-number";
    private const string EnqueuedTimeName = "amqp.annotation.x-opt-enqueued-time";

    /// <summary>The start position of a receive link; no filter means the start of the partition.</summary>
    public static StartPosition FromSource(Source? source)
    {
        var expression = FindExpression(source?.FilterSet);
        return expression is null ? new StartPosition.Earliest() : Parse(expression);
    }

    public static StartPosition Parse(string expression)
    {
        var parts = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 3 || parts[1] is not (">" or ">="))
        {
            throw Invalid(expression, "expected '<annotation> > value' or '<annotation> >= value'");
        }

        var inclusive = parts[1] == ">=";
        // Older SDKs quote the value; this one does not.
        var value = parts[2].Trim('\'', '"');
        switch (parts[0])
        {
            case OffsetName:
                if (value == "-1")
                {
                    return new StartPosition.Earliest();
                }

                if (value == "@latest")
                {
                    return new StartPosition.Latest();
                }

                return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var offset)
                    ? new StartPosition.FromOffset(offset, inclusive)
                    : throw Invalid(expression, $"offset '{value}' is not a number, -1 or @latest");
            case SequenceName:
                return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var sequence)
                    ? new StartPosition.FromSequence(sequence, inclusive)
                    : throw Invalid(expression, $"sequence number '{value}' is not a number");
            case EnqueuedTimeName:
                return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var millis)
                    ? new StartPosition.FromEnqueuedTime(DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime)
                    : throw Invalid(expression, $"enqueued time '{value}' is not Unix milliseconds");
            default:
                throw Invalid(expression, $"unknown annotation '{parts[0]}'");
        }
    }

    private static string? FindExpression(FilterSet? filters)
    {
        if (filters is null)
        {
            return null;
        }

        foreach (var (key, value) in filters)
        {
            if (value is DescribedType described && IsSelector(key, described) && described.Value is string text)
            {
                return text;
            }
        }

        return null;
    }

    private static bool IsSelector(MapKey key, DescribedType described) =>
        key.Key is AmqpSymbol symbol && symbol.Value == SelectorFilterName
        || described.Descriptor is AmqpSymbol d && d.Value == SelectorFilterName
        || described.Descriptor is ulong code && code == SelectorFilterCode;

    private static AmqpException Invalid(string expression, string why) =>
        new(AmqpErrorCode.InvalidField, $"The start filter '{expression}' is not one the Event Hubs test double understands: {why}.");
}
