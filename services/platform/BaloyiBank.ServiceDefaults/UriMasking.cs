namespace BaloyiBank.ServiceDefaults;

/// <summary>Hides the password of a URI with credentials (<c>scheme://user:password@…</c> becomes <c>scheme://user:***@…</c>), for logs and messages.</summary>
public static class UriMasking
{
    public static string Mask(string? uri)
    {
        if (string.IsNullOrEmpty(uri))
        {
            return string.Empty;
        }

        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        var at = uri.LastIndexOf('@');
        if (scheme < 0 || at < scheme)
        {
            return uri;
        }

        var userInfo = uri[(scheme + 3)..at];
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? uri : string.Concat(uri.AsSpan(0, scheme + 3), userInfo.AsSpan(0, colon), ":***", uri.AsSpan(at));
    }
}
