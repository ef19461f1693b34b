// Greets whoever the event names (an ES module with an async handler).
export const handler = async (event, context) => {
  const name = event?.name ?? "world";
  console.log(`greeting ${name}`);
  return { message: `Hello, ${name}!`, requestId: context.awsRequestId, remainingMs: context.getRemainingTimeInMillis() };
};
