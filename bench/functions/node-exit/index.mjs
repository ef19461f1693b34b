// The Node.js no-op of the cold-start figures: answers {} and, for {"exit": true}, exits before
// answering, so the host discards the worker and the next invoke starts a new one (as CExit does).
export const handler = async (event) => {
  if (event && event.exit) process.exit(0);
  return {};
};
