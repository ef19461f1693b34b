// Always fails: shows how an unhandled error reaches the caller.
exports.handler = async () => {
  throw new TypeError("this function always fails");
};
