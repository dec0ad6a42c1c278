using System.Text;
using System.Text.Json;

namespace BaloyiBank.Cleansing;

/// <summary>
/// The snake_case wire names of one contract enum, derived from the enum itself with the same
/// naming policy as the contract's serializer, so a new member needs no change here.
/// </summary>
internal sealed class WireEnum
{
    private readonly byte[][] _utf8;

    private WireEnum(string[] names)
    {
        Names = names;
        _utf8 = [.. names.Select(Encoding.UTF8.GetBytes)];
    }

    /// <summary>The wire names, in enum order: the strings rows carry.</summary>
    public string[] Names { get; }

    public static WireEnum Of<TEnum>() where TEnum : struct, Enum =>
        new([.. Enum.GetNames<TEnum>().Select(JsonNamingPolicy.SnakeCaseLower.ConvertName)]);

    /// <summary>The member's index, or -1 when the text (exact, case-sensitive) names none.</summary>
    public int IndexOf(ReadOnlySpan<byte> utf8)
    {
        for (var i = 0; i < _utf8.Length; i++)
        {
            if (utf8.SequenceEqual(_utf8[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
