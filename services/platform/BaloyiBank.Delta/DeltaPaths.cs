using System.Globalization;
using System.Text;

namespace BaloyiBank.Delta;

/// <summary>
/// Names and encodings of the Delta layout: log file names, hive-style partition folders, the URI
/// encoding of <c>add.path</c>, and partition value serialization (PROTOCOL.md appendix).
/// </summary>
public static class DeltaPaths
{
    public const string LogFolder = "_delta_log";
    public const string LastCheckpointFile = "_last_checkpoint";

    /// <summary>The folder name Spark/Hive use for a null (or empty) partition value.</summary>
    public const string NullPartitionFolder = "__HIVE_DEFAULT_PARTITION__";

    private const int VersionDigits = 20;

    /// <summary><c>00000000000000000042.json</c>.</summary>
    public static string CommitFileName(long version) => Version(version) + ".json";

    /// <summary><c>00000000000000000040.checkpoint.parquet</c> (a classic, single-file checkpoint).</summary>
    public static string CheckpointFileName(long version) => Version(version) + ".checkpoint.parquet";

    internal static string Version(long version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return version.ToString("D20", CultureInfo.InvariantCulture);
    }

    /// <summary>What a <c>_delta_log</c> file name is: a commit, a classic checkpoint, or neither (null).</summary>
    internal static (long Version, bool IsCheckpoint)? ParseLogFileName(string fileName)
    {
        if (fileName.Length < VersionDigits + 5 || !long.TryParse(fileName.AsSpan(0, VersionDigits), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return null;
        }

        var rest = fileName.AsSpan(VersionDigits);
        return rest switch
        {
            ".json" => (version, false),
            ".checkpoint.parquet" => (version, true),
            // Multi-part and UUID-named (v2) checkpoints, .crc and compacted files are not used here.
            _ => null,
        };
    }

    /// <summary>
    /// The relative folder of a partition (<c>event_date=2026-01-01/</c>…), escaped as Hive and Spark escape
    /// partition folders, so that the folder name never contains '/', ':', '=' or control characters.
    /// </summary>
    public static string PartitionFolder(IReadOnlyList<string> partitionColumns, IReadOnlyDictionary<string, string?> values)
    {
        ArgumentNullException.ThrowIfNull(partitionColumns);
        ArgumentNullException.ThrowIfNull(values);
        var folder = new StringBuilder();
        foreach (var column in partitionColumns)
        {
            var value = values.TryGetValue(column, out var v) ? v : throw new ArgumentException($"No value for partition column '{column}'.", nameof(values));
            folder.Append(EscapeHive(column)).Append('=')
                .Append(string.IsNullOrEmpty(value) ? NullPartitionFolder : EscapeHive(value)).Append('/');
        }

        return folder.ToString();
    }

    /// <summary>
    /// Encodes a decoded relative data path for <c>add.path</c>: RFC 2396 allows unreserved and a few
    /// path characters; everything else (space, '%', '#', non-ASCII …) becomes %XX of its UTF-8 bytes.
    /// </summary>
    public static string EncodeDataPath(string dataPath)
    {
        ArgumentNullException.ThrowIfNull(dataPath);
        var encoded = new StringBuilder(dataPath.Length + 16);
        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in dataPath.EnumerateRunes())
        {
            if (rune.IsAscii && IsUriPathChar((char)rune.Value))
            {
                encoded.Append((char)rune.Value);
                continue;
            }

            var count = rune.EncodeToUtf8(bytes);
            for (var i = 0; i < count; i++)
            {
                encoded.Append('%').Append(bytes[i].ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }

    /// <summary>Decodes <c>add.path</c>/<c>remove.path</c> to the relative path the lake stores the file under.</summary>
    /// <exception cref="DeltaProtocolException">The path is absolute (has a scheme or starts with '/'): not supported here.</exception>
    public static string DecodeDataPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var colon = path.IndexOf(':', StringComparison.Ordinal);
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        if (path.StartsWith('/') || (colon >= 0 && (slash < 0 || colon < slash)))
        {
            throw new DeltaProtocolException($"Data file path '{path}' is absolute; only paths relative to the table root are supported.");
        }

        return Uri.UnescapeDataString(path);
    }

    /// <summary>The partition value string of a typed value (PROTOCOL.md "Partition Value Serialization"); null stays null.</summary>
    public static string? SerializePartitionValue(ColumnType type, object? value) => value switch
    {
        null => null,
        string s when type == ColumnType.String => s,
        DateOnly d when type == ColumnType.Date => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        // The protocol recommends ISO-8601 adjusted to UTC for timestamps; microseconds are the type's precision.
        DateTimeOffset t when type == ColumnType.Timestamp => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        bool b when type == ColumnType.Boolean => b ? "true" : "false",
        long or int or short when type is ColumnType.Long or ColumnType.Integer => Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
        decimal m when type is ColumnType.Money or ColumnType.Rate => m.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"A {value.GetType().Name} cannot be the value of a {type} partition column.", nameof(value)),
    };

    // RFC 2396: unreserved = alphanum | "-_.!~*'()"; pchar adds ":@&=+$,"; '/' separates segments.
    // ':' is encoded anyway: in a first segment it would read as a URI scheme.
    private static bool IsUriPathChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '!' or '~' or '*' or '\'' or '(' or ')'
            or '@' or '&' or '=' or '+' or '$' or ',' or '/';

    // Spark's ExternalCatalogUtils.escapePathName: these characters become %XX in partition folder names.
    private static bool NeedsHiveEscape(char c) =>
        c < ' ' || c == '\u007F' || c is '"' or '#' or '%' or '\'' or '*' or '/' or ':' or '=' or '?' or '\\' or '{' or '[' or ']' or '^';

    private static string EscapeHive(string value)
    {
        if (!value.Any(NeedsHiveEscape))
        {
            return value;
        }

        var escaped = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            if (NeedsHiveEscape(c))
            {
                escaped.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }
}
