"""The ceiling for the load benchmark: a bare Flask JSON endpoint, no database."""

from flask import Flask, jsonify

app = Flask(__name__)
BODY = {"date": "2026-06-15", "timezone": "UTC", "jobs": [
    {"serviceJobId": f"job-{i}", "status": "NOT_SERVICED", "stillNeeded": ["START_TIME", "END_TIME"]}
    for i in range(5)]}


@app.get("/v1/jobs")
def jobs():
    return jsonify(BODY)
