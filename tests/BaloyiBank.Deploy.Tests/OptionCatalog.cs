using System.Reflection;

namespace BaloyiBank.Deploy.Tests;

/// <summary>
/// The configuration keys a service binds, found by reflection: every options class in the service's assembly or
/// the BaloyiBank assemblies it references (transitively) declares its section in a <c>…SectionName</c> constant,
/// and its public settable properties (nested option objects walked) are the keys. An environment variable
/// <c>A__B__C</c> is the key <c>A:B:C</c>; it is bound when some section is a prefix of it and the rest names a
/// property path (case-insensitive, as the configuration binder matches).
/// </summary>
internal sealed class OptionCatalog
{
    /// <summary>Variables read by the runtime or libraries rather than bound to an options class.</summary>
    private static readonly HashSet<string> Platform = new(StringComparer.Ordinal)
    {
        "DOTNET_ENVIRONMENT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        "AZURE_CLIENT_ID", // Azure.Identity: the user-assigned identity DefaultAzureCredential signs in with
    };

    private readonly List<(string Section, Type Options)> _sections;

    private OptionCatalog(List<(string, Type)> sections) => _sections = sections;

    public IReadOnlyList<(string Section, Type Options)> Sections => _sections;

    public static OptionCatalog For(Assembly service)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<Assembly>([service]);
        var sections = new List<(string, Type)>();
        while (pending.TryDequeue(out var assembly))
        {
            if (!seen.Add(assembly.GetName().Name!))
            {
                continue;
            }

            foreach (var type in assembly.GetTypes().Where(t => t.IsClass))
            {
                foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static)
                             .Where(f => f.IsLiteral && f.FieldType == typeof(string) && f.Name.EndsWith("SectionName", StringComparison.Ordinal)))
                {
                    sections.Add(((string)field.GetRawConstantValue()!, type));
                }
            }

            foreach (var reference in assembly.GetReferencedAssemblies().Where(r => r.Name!.StartsWith("BaloyiBank.", StringComparison.Ordinal)))
            {
                pending.Enqueue(Assembly.Load(reference));
            }
        }

        return new OptionCatalog(sections);
    }

    /// <summary>Null when the variable is bound (or a platform variable); otherwise why not.</summary>
    public string? Problem(string variable)
    {
        if (Platform.Contains(variable))
        {
            return null;
        }

        var key = variable.Split("__");
        foreach (var (section, options) in _sections)
        {
            var prefix = section.Split(':');
            if (key.Length > prefix.Length && prefix.SequenceEqual(key.Take(prefix.Length), StringComparer.OrdinalIgnoreCase)
                && Resolves(options, [.. key.Skip(prefix.Length)]))
            {
                return null;
            }
        }

        var known = string.Join(", ", _sections.Select(s => s.Section).Distinct().Order(StringComparer.Ordinal));
        return $"{variable} is bound by no option of this service (its sections: {known})";
    }

    private static bool Resolves(Type type, string[] path)
    {
        var property = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => string.Equals(p.Name, path[0], StringComparison.OrdinalIgnoreCase) && p.GetIndexParameters().Length == 0);
        if (property is null)
        {
            return false;
        }

        if (path.Length == 1)
        {
            return property.CanWrite && IsLeaf(property.PropertyType);
        }

        return !IsLeaf(property.PropertyType) && Resolves(property.PropertyType, [.. path.Skip(1)]);
    }

    private static bool IsLeaf(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan)
            || t == typeof(DateTimeOffset) || t == typeof(DateTime) || t == typeof(Uri) || t == typeof(Guid);
    }
}
