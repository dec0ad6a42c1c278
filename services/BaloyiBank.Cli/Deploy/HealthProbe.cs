using System.Globalization;
using System.Text.Json;

namespace BaloyiBank.Cli.Deploy;

/// <summary>One service's <c>/health</c> answer: overall status, and each check's description and figures.</summary>
internal sealed record ServiceHealth(string Status, string Description, IReadOnlyDictionary<string, JsonElement> Data)
{
    public static readonly ServiceHealth Unreachable = new("Unreachable", "no answer on its health port", new Dictionary<string, JsonElement>());

    public bool Answered => Status != Unreachable.Status;

    public long Long(string key, long fallback = -1) =>
        Data.TryGetValue(key, out var value) ? value.ValueKind switch
        {
            JsonValueKind.Number => value.GetInt64(),
            JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => fallback,
        } : fallback;

    public bool Bool(string key) => Data.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.True;
}

internal sealed class HealthProbe : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>GET /health of a process of <paramref name="service"/> (<c>cleansing-2</c> is one of cleansing) and its service's own check (named like the service).</summary>
    public async Task<ServiceHealth> GetAsync(int port, string service, CancellationToken ct)
    {
        service = Services.ServiceOf(service);
        try
        {
            using var response = await _http.GetAsync(new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/health"), ct);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            using var doc = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            var root = doc.RootElement;
            var status = root.GetProperty("status").GetString() ?? "Unknown";
            if (!root.GetProperty("checks").TryGetProperty(service, out var own))
            {
                return new ServiceHealth(status, "", new Dictionary<string, JsonElement>());
            }

            var data = own.GetProperty("data").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
            var description = own.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
            // A failing dependency check (e.g. the bus) shows in the overall status; say which one.
            foreach (var check in root.GetProperty("checks").EnumerateObject())
            {
                if (check.Name != service && check.Value.GetProperty("status").GetString() is "Unhealthy" or "Degraded")
                {
                    description += $"; {check.Name}: {check.Value.GetProperty("status").GetString()}";
                }
            }

            return new ServiceHealth(status, description, data);
        }
        catch (Exception failure) when (failure is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            if (ct.IsCancellationRequested)
            {
                throw;
            }

            return ServiceHealth.Unreachable;
        }
    }

    public void Dispose() => _http.Dispose();
}
