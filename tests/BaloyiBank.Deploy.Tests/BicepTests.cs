using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BaloyiBank.Deploy.Tests;

/// <summary>
/// deploy/azure: every Bicep file builds and lints clean with the real compiler (offline), and the compiled
/// template gives each service its own user-assigned identity with exactly the roles it needs.
/// </summary>
public sealed partial class BicepTests
{
    private const string EventHubsDataSender = "2b629674-e913-4c01-ae53-ef4638d8f975";
    private const string EventHubsDataReceiver = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde";
    private const string StorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string StorageBlobDataReader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly Lazy<Task<JsonObject>> Main = new(() => BuildAsync(Repo.PathOf("deploy", "azure", "main.bicep")));

    public static TheoryData<string> BicepFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Repo.PathOf("deploy", "azure"), "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Repo.Root, file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Builds_and_lints_with_no_error_and_no_warning(string file)
    {
        foreach (var command in new[] { new[] { "lint", file }, ["build", file, "--stdout"] })
        {
            var (exit, output, error) = await Repo.RunAsync(Bicep.Path, command, Repo.Root, TimeSpan.FromMinutes(3));
            Assert.True(exit == 0, $"bicep {string.Join(' ', command)} exited {exit}:\n{error}");
            Assert.DoesNotMatch(@"(?m)\b(Warning|Error)\b", error);
            if (command[0] == "build")
            {
                Assert.NotNull(JsonNode.Parse(output)?["resources"]);
            }
        }
    }

    [Fact]
    public async Task The_linter_configuration_turns_warnings_into_failures()
    {
        // An unused parameter is a warning under the default rules; bicepconfig.json beside the files makes it fail.
        var folder = Directory.CreateTempSubdirectory("bicep-lint-");
        try
        {
            File.Copy(Repo.PathOf("deploy", "azure", "bicepconfig.json"), Path.Combine(folder.FullName, "bicepconfig.json"));
            var file = Path.Combine(folder.FullName, "unused.bicep");
            await File.WriteAllTextAsync(file, "param unused string\n");
            var (exit, _, error) = await Repo.RunAsync(Bicep.Path, ["lint", file], folder.FullName, TimeSpan.FromMinutes(3));
            Assert.NotEqual(0, exit);
            Assert.Contains("no-unused-params", error, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    public static TheoryData<string, string[]> ServiceRoles() => new()
    {
        { "generator", [EventHubsDataSender] },
        { "cleansing", [EventHubsDataReceiver, StorageBlobDataContributor, KeyVaultSecretsUser] },
        { "aggregator", [StorageBlobDataContributor, KeyVaultSecretsUser] },
        { "sink", [StorageBlobDataContributor, KeyVaultSecretsUser] },
        { "collector", [] },
    };

    [Theory]
    [MemberData(nameof(ServiceRoles))]
    public async Task Each_service_has_its_own_identity_and_only_the_roles_it_needs(string service, string[] expected)
    {
        var template = await Main.Value;
        var deployment = Resources(template).Single(r => r.Symbol == service).Resource;
        var parameters = deployment["properties"]!["parameters"]!.AsObject();
        var module = deployment["properties"]!["template"]!.AsObject();

        // The role lists are literal role ids (through the 'roles' variable), each scoped in the module to one resource.
        var granted = new[] { "eventHubRoles", "lakeRoles", "keyVaultSecretRoles" }
            .SelectMany(p => parameters[p]?["value"]?.AsArray().Select(v => RoleId(template, v!.GetValue<string>())) ?? [])
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected.Order(StringComparer.Ordinal), granted);

        var moduleResources = Resources(module).Select(r => r.Resource).ToList();
        var identities = moduleResources.Where(r => Type(r) == "Microsoft.ManagedIdentity/userAssignedIdentities").ToList();
        Assert.Single(identities);
        var app = Assert.Single(moduleResources, r => Type(r) == "Microsoft.App/containerApps");
        Assert.Equal("UserAssigned", app["identity"]!["type"]!.GetValue<string>());
        Assert.Single(app["identity"]!["userAssignedIdentities"]!.AsObject());

        // Every role assignment of the module is one copy per entry of those lists: nothing else is granted.
        var assignments = moduleResources.Where(r => Type(r) == "Microsoft.Authorization/roleAssignments").ToList();
        Assert.Equal(3, assignments.Count);
        foreach (var assignment in assignments)
        {
            var count = assignment["copy"]?["count"]?.GetValue<string>() ?? "";
            var list = Assert.Single(CopyOverRoleList().Matches(count)).Groups[1].Value;
            Assert.Contains($"parameters('{list}')[copyIndex()]", assignment["properties"]!["roleDefinitionId"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("userAssignedIdentities", assignment["properties"]!["principalId"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Role_assignments_exist_only_in_the_services_and_for_the_synapse_workspace()
    {
        var template = await Main.Value;
        Assert.DoesNotContain(Resources(template), r => Type(r.Resource) == "Microsoft.Authorization/roleAssignments");
        var synapse = Resources(template).Single(r => r.Symbol == "synapse").Resource["properties"]!["template"]!.AsObject();
        var roles = Resources(synapse).Select(r => r.Resource).Where(r => Type(r) == "Microsoft.Authorization/roleAssignments")
            .Select(r => Guid().Match(r["properties"]!["roleDefinitionId"]!.GetValue<string>()).Value).Order(StringComparer.Ordinal);
        // The workspace identity reads the lake (COPY INTO, serverless views) and writes only its own file system.
        Assert.Equal(new[] { StorageBlobDataContributor, StorageBlobDataReader }.Order(StringComparer.Ordinal), roles);
        foreach (var (symbol, resource) in Resources(template).Where(r => r.Symbol is not ("generator" or "cleansing" or "aggregator" or "sink" or "collector" or "synapse")))
        {
            if (resource["properties"]?["template"] is JsonObject nested)
            {
                Assert.False(Resources(nested).Any(r => Type(r.Resource) == "Microsoft.Authorization/roleAssignments"), $"{symbol} assigns roles");
            }
        }
    }

    [Fact]
    public async Task No_parameter_default_holds_a_secret()
    {
        var template = await Main.Value;
        var templates = new List<(string Name, JsonObject Template)> { ("main", template) };
        templates.AddRange(Resources(template).Where(r => r.Resource["properties"]?["template"] is JsonObject)
            .Select(r => (r.Symbol, r.Resource["properties"]!["template"]!.AsObject())));
        foreach (var (name, t) in templates)
        {
            foreach (var (parameter, definition) in t["parameters"]?.AsObject() ?? [])
            {
                var type = definition!["type"]!.GetValue<string>();
                var value = definition["defaultValue"];
                var isSecure = type.StartsWith("secure", StringComparison.OrdinalIgnoreCase);
                // A parameter that names a secret (…SecretName) may have a default; one that holds a secret may not.
                if (isSecure || (SecretName().IsMatch(parameter) && !parameter.EndsWith("Name", StringComparison.Ordinal)))
                {
                    var empty = value is null || value.ToJsonString() is "\"\"" or "{}" or "[]";
                    Assert.True(empty, $"{name}: parameter {parameter} has a default value ({value?.ToJsonString()})");
                }

                if (value is not null)
                {
                    Assert.DoesNotMatch(SecretValue(), value.ToJsonString(Relaxed));
                }
            }
        }

        // The secrets that exist are secure parameters: the bus password (to Key Vault) has no default.
        Assert.Equal("securestring", template["parameters"]!["busPassword"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Container_app_environment_variables_are_options_the_service_binds()
    {
        var template = await Main.Value;
        var variables = template["variables"]!.AsObject();
        foreach (var service in new[] { "generator", "cleansing", "aggregator", "sink" })
        {
            var parameters = Resources(template).Single(r => r.Symbol == service).Resource["properties"]!["parameters"]!;
            var env = parameters["env"]!["value"] is JsonValue expression ? expression.GetValue<string>() : parameters["env"]!["value"]!.ToJsonString(Relaxed);
            var names = EnvName().Matches(env).Select(m => m.Groups[1].Value).ToList();
            foreach (Match reference in VariableReference().Matches(env))
            {
                if (variables[reference.Groups[1].Value] is JsonArray list)
                {
                    names.AddRange(list.Select(e => e!["name"]!.GetValue<string>()));
                }
            }

            names.AddRange(parameters["clientIdEnv"]!["value"]!.AsArray().Select(v => v!.GetValue<string>()));
            Assert.True(names.Count > 5, $"{service}: only {names.Count} variables found");
            var catalog = OptionCatalog.For(ComposeTests.AssemblyOf(service)!);
            Assert.Empty(names.Select(catalog.Problem).OfType<string>());
        }
    }

    private static string RoleId(JsonObject template, string expression)
    {
        var match = RoleVariable().Match(expression);
        Assert.True(match.Success, $"role '{expression}' is not a literal from the 'roles' variable");
        return template["variables"]!["roles"]![match.Groups[1].Value]!.GetValue<string>();
    }

    /// <summary>Resources of a template: an object keyed by symbolic name (language version 2.0) or an array.</summary>
    private static IEnumerable<(string Symbol, JsonObject Resource)> Resources(JsonObject template) => template["resources"] switch
    {
        JsonObject map => map.Select(e => (e.Key, e.Value!.AsObject())),
        JsonArray list => list.Select((r, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), r!.AsObject())),
        _ => [],
    };

    private static string Type(JsonObject resource) => resource["type"]!.GetValue<string>();

    private static async Task<JsonObject> BuildAsync(string file)
    {
        var (exit, output, error) = await Repo.RunAsync(Bicep.Path, ["build", file, "--stdout"], Repo.Root, TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, error);
        return JsonNode.Parse(output)!.AsObject();
    }

    [GeneratedRegex(@"^\[length\(parameters\('(eventHubRoles|lakeRoles|keyVaultSecretRoles)'\)\)\]$")]
    private static partial Regex CopyOverRoleList();

    [GeneratedRegex(@"^\[variables\('roles'\)\.(\w+)\]$")]
    private static partial Regex RoleVariable();

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex Guid();

    [GeneratedRegex(@"(?i)(password|secret|key$|token|connectionstring)")]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(?i)(AccountKey=|SharedAccessKey=|Password=|sig=)")]
    private static partial Regex SecretValue();

    [GeneratedRegex(@"createObject\('name', '([^']+)'")]
    private static partial Regex EnvName();

    [GeneratedRegex(@"variables\('(\w+)'\)")]
    private static partial Regex VariableReference();
}

/// <summary>The Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package (a PackageDownload of this project).</summary>
internal static class Bicep
{
    public static string Path { get; } = Locate();

    private static string Locate()
    {
        var packages = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : System.IO.Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = System.IO.Path.Combine(packages, "azure.bicep.commandline.linux-x64", "0.49.2", "tools", "bicep");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The Bicep CLI is not at {path}. Fix: dotnet restore tests/BaloyiBank.Deploy.Tests (it downloads Azure.Bicep.CommandLine.linux-x64 0.49.2).");
        }

        // NuGet extracts without the execute bit.
        if (OperatingSystem.IsWindows())
        {
            return path;
        }

        var mode = File.GetUnixFileMode(path);
        if (!mode.HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        return path;
    }
}
