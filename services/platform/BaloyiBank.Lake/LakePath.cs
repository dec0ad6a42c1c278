namespace BaloyiBank.Lake;

/// <summary>The rules every lake path follows, whatever the store behind it.</summary>
public static class LakePath
{
    /// <summary>Names starting with this are a folder store's in-flight writes: never listed, never valid object names.</summary>
    public const string TemporaryPrefix = ".lake-tmp~";

    private const string Rules =
        "Lake paths are relative, '/'-separated, without empty, '.' or '..' segments or backslashes " +
        "(e.g. silver/transactions/_delta_log/00000000000000000000.json)";

    /// <summary>Throws an <see cref="ArgumentException"/> naming the problem when <paramref name="path"/> is not a valid object path.</summary>
    public static void Validate(string path, string parameterName = "path")
    {
        ArgumentNullException.ThrowIfNull(path, parameterName);
        if (Problem(path, allowTrailingSlash: false) is { } problem)
        {
            throw new ArgumentException($"Lake path '{path}' is invalid: {problem}. {Rules}.", parameterName);
        }
    }

    /// <summary>Like <see cref="Validate"/> for a listing prefix, which may be empty, end with '/' or end mid-name.</summary>
    public static void ValidatePrefix(string prefix, string parameterName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, parameterName);
        if (prefix.Length > 0 && Problem(prefix, allowTrailingSlash: true) is { } problem)
        {
            throw new ArgumentException($"Lake prefix '{prefix}' is invalid: {problem}. {Rules}.", parameterName);
        }
    }

    private static string? Problem(string path, bool allowTrailingSlash)
    {
        if (path.Length == 0)
        {
            return "it is empty";
        }

        if (path.Contains('\\', StringComparison.Ordinal))
        {
            return "it contains a backslash (use '/')";
        }

        if (path[0] == '/')
        {
            return "it starts with '/' (paths are relative to the lake's root)";
        }

        if (path.Any(char.IsControl))
        {
            return "it contains a control character";
        }

        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (segment.Length == 0 && !(last && allowTrailingSlash))
            {
                return last ? "it ends with '/'" : "it has an empty segment ('//')";
            }

            // A prefix may stop mid-name, so its last segment may be "." (as in ".hidden"); whole segments may not.
            if ((segment is "." or "..") && !(last && allowTrailingSlash))
            {
                return $"it contains a '{segment}' segment";
            }

            if (segment.StartsWith(TemporaryPrefix, StringComparison.Ordinal))
            {
                return $"the segment '{segment}' uses the reserved prefix '{TemporaryPrefix}'";
            }
        }

        return null;
    }
}
