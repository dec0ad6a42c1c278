using BaloyiBank.EventLog;
using BaloyiBank.EventLog.EventHubs;
using BaloyiBank.EventLog.Kafka;
using BaloyiBank.EventLog.RabbitMq;
using BaloyiBank.Generator;
using BaloyiBank.Generator.Hosting;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The generator service on its own: synthetic bank events onto the event log (EventLog:Kind = embedded | rabbitmq | eventhubs | kafka).
// Configuration from appsettings.json, environment variables (Generator__Rate=…) and the command line
// (--Generator:Rate=…), validated at start-up; /health and /alive on Health:Port.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults("generator");
builder.AddHealthEndpoints();
builder.Services.AddEventLog(builder.Configuration).AddRabbitMqEventLog(builder.Configuration).AddKafkaEventLog(builder.Configuration).AddEventHubsEventLog(builder.Configuration);
builder.Services.AddGenerator(builder.Configuration);
builder.Services.AddHealthChecks().AddCheck<GeneratorHealthCheck>("generator", tags: [ServiceDefaultsExtensions.ReadyTag]);
await builder.Build().RunAsync();
