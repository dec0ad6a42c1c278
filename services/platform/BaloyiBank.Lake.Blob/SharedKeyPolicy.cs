using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace BaloyiBank.Lake.Blob;

/// <summary>
/// Signs every attempt with the account key (Shared Key authorization, Blob service, version 2009-09-19 and
/// later): a fresh x-ms-date, then <c>Authorization: SharedKey account:base64(HMAC-SHA256(key, string-to-sign))</c>.
/// A per-retry policy, so a retried request carries a new date and signature. The key never leaves this object.
/// </summary>
internal sealed class SharedKeyPolicy : HttpPipelineSynchronousPolicy
{
    private readonly string _accountName;
    private readonly byte[] _key;

    public SharedKeyPolicy(string accountName, string base64Key)
    {
        _accountName = accountName;
        _key = Convert.FromBase64String(base64Key);
    }

    public string AccountName => _accountName;

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        var contentLength = request.Content is { } content && content.TryComputeLength(out var length) ? length : 0;
        var headers = request.Headers.Select(h => (h.Name, h.Value));
        var toSign = StringToSign(request.Method.Method, request.Uri.Path, request.Uri.Query, contentLength, headers, _accountName);
        request.Headers.SetValue("Authorization", $"SharedKey {_accountName}:{Sign(_key, toSign)}");
    }

    /// <summary>base64(HMAC-SHA256(key, UTF-8 string-to-sign)).</summary>
    internal static string Sign(byte[] key, string stringToSign) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>
    /// The documented string-to-sign: the verb, twelve standard headers (Content-Length empty when 0), the
    /// canonicalized x-ms- headers, then the canonicalized resource "/account/path" with each query parameter
    /// as "\nname:value" (names lowercased and sorted, values decoded, repeated names joined by commas).
    /// </summary>
    /// <param name="path">The request path as sent (percent-encoded), starting with '/'.</param>
    /// <param name="query">The query as sent, with or without its leading '?'.</param>
    internal static string StringToSign(string method, string path, string query, long contentLength,
        IEnumerable<(string Name, string Value)> headers, string accountName)
    {
        var all = headers.ToList();
        string Standard(string name) => all.Where(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault() ?? "";

        var builder = new StringBuilder(256);
        builder.Append(method.ToUpperInvariant()).Append('\n')
            .Append(Standard("Content-Encoding")).Append('\n')
            .Append(Standard("Content-Language")).Append('\n')
            .Append(contentLength == 0 ? "" : contentLength.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Standard("Content-MD5")).Append('\n')
            .Append(Standard("Content-Type")).Append('\n')
            .Append(Standard("Date")).Append('\n')
            .Append(Standard("If-Modified-Since")).Append('\n')
            .Append(Standard("If-Match")).Append('\n')
            .Append(Standard("If-None-Match")).Append('\n')
            .Append(Standard("If-Unmodified-Since")).Append('\n')
            .Append(Standard("Range")).Append('\n');

        foreach (var (name, value) in all
            .Where(h => h.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            .Select(h => (Name: h.Name.ToLowerInvariant(), Value: h.Value))
            .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            builder.Append(name).Append(':').Append(UnfoldWhitespace(value)).Append('\n');
        }

        builder.Append('/').Append(accountName).Append(path.Length == 0 ? "/" : path);
        var parameters = (query.StartsWith('?') ? query[1..] : query)
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair =>
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = equals < 0 ? pair : pair[..equals];
                var value = equals < 0 ? "" : pair[(equals + 1)..];
                return (Name: Uri.UnescapeDataString(name).ToLowerInvariant(), Value: Uri.UnescapeDataString(value));
            })
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in parameters)
        {
            builder.Append('\n').Append(group.Key).Append(':')
                .Append(string.Join(',', group.Select(p => p.Value).Order(StringComparer.Ordinal)));
        }

        return builder.ToString();
    }

    private static string UnfoldWhitespace(string value)
    {
        var trimmed = value.Trim();
        if (!trimmed.Contains("  ", StringComparison.Ordinal) && !trimmed.Contains('\n', StringComparison.Ordinal))
        {
            return trimmed;
        }

        return string.Join(' ', trimmed.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
    }
}
