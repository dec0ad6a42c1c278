using BaloyiBank.Bus;
using BaloyiBank.Cleansing;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.EventHubs;
using BaloyiBank.EventLog.Kafka;
using BaloyiBank.EventLog.RabbitMq;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The cleansing service on its own: the event log in (EventLog:Kind = embedded | rabbitmq | eventhubs | kafka), the lake out
// (Lake:Kind = folder | blob), SilverBatchCommitted on the control bus (Bus:*). Configuration from appsettings.json,
// environment variables (Cleansing__FlushRows=…) and the command line (--Cleansing:FlushRows=…), validated at
// start-up; /health and /alive on Health:Port.
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults("cleansing");
builder.AddHealthEndpoints();
builder.Services.AddEventLog(builder.Configuration).AddRabbitMqEventLog(builder.Configuration).AddKafkaEventLog(builder.Configuration).AddEventHubsEventLog(builder.Configuration);
builder.Services.AddLake(builder.Configuration).AddBlobLake(builder.Configuration);
builder.Services.AddControlBus(builder.Configuration);
builder.Services.AddCleansing(builder.Configuration);
builder.Services.AddHealthChecks().AddCheck<CleansingHealthCheck>("cleansing", tags: [ServiceDefaultsExtensions.ReadyTag]);
await builder.Build().RunAsync();
